import type { protos } from '@google-cloud/aiplatform';
import {
  abortedError,
  type CallOptionsV1,
  MlscaleError,
  type PredictRequest,
  type PredictResponse,
  redactText,
} from '@mlscale/core';
import { fromProtobufValue, type ProtobufValue, toProtobufValue } from '../protobuf-value.js';
import { singleAttempt } from './calls.js';
import { type AdapterContext, clientsOf } from './context.js';
import { getEndpoint } from './endpoint-calls.js';
import { grpcCode, provider, vertexError } from './errors.js';
import { endpointName } from './names.js';
import { fromPredictions, toInstances } from './tensors.js';

/** One prediction on a deployment's endpoint: V2 tensors as Vertex instances, and back. */
export async function predict(
  context: AdapterContext,
  name: string,
  request: PredictRequest,
  options: CallOptionsV1,
): Promise<PredictResponse> {
  const endpoint = await getEndpoint(context, endpointName(context.settings, name), options.signal);
  if (!endpoint?.name) {
    throw new MlscaleError({
      code: 'NotFound',
      provider,
      message: `No deployment named '${name}' on Vertex AI (${context.settings.project}/${context.settings.location}).`,
    });
  }
  const instances = toInstances(request);
  const clients = await clientsOf(context);
  let response: protos.google.cloud.aiplatform.v1.IPredictResponse;
  // google-gax unary calls take no AbortSignal (and aiplatform's promise has no cancel()): the
  // caller gets Aborted at once and the call's late answer is dropped.
  const pending = clients.predictions.predict(
    {
      endpoint: endpoint.name,
      instances: instances.map(toProtobufValue) as protos.google.protobuf.IValue[],
    },
    singleAttempt,
  );
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortedError(options.signal, `Predict on '${name}'`));
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
  });
  pending.catch(() => undefined);
  try {
    [response] = await Promise.race([pending, aborted]);
  } catch (error) {
    if (MlscaleError.hasCode(error, 'Aborted')) throw error;
    if (grpcCode(error) === 9)
      throw new MlscaleError({
        code: 'Conflict',
        provider,
        statusCode: 400,
        message: `Deployment '${name}' is not serving yet: ${redactText(String((error as { details?: string }).details ?? error))}`,
      });
    throw vertexError(error, 'Predict');
  } finally {
    if (onAbort) options.signal?.removeEventListener('abort', onAbort);
  }
  const predictions = (response.predictions ?? []).map((value) => fromProtobufValue(value as ProtobufValue));
  return {
    ...(request.id ? { id: request.id } : {}),
    modelName: name,
    ...(response.modelVersionId ? { modelVersion: response.modelVersionId } : {}),
    outputs: fromPredictions(predictions, request.outputs),
  };
}
