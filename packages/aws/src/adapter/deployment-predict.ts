import {
  MlscaleError,
  type PredictRequest,
  type PredictResponse,
  parseSpec,
  predictRequestSchema,
  tensorSchema,
} from '@mlscale/core';
import { z } from 'zod';
import type { AdapterContext } from './adapter-context.js';

const v2ResponseSchema = z.object({
  id: z.string().optional(),
  model_name: z.string(),
  model_version: z.string().optional(),
  outputs: z.array(tensorSchema),
});

/** One inference: InvokeEndpoint with the V2 JSON body, the answer read as a V2 response. */
export async function predict(
  context: AdapterContext,
  name: string,
  input: PredictRequest,
  signal: AbortSignal | undefined,
): Promise<PredictResponse> {
  const request = parseSpec(predictRequestSchema, input, 'predict request');
  const body = JSON.stringify({
    ...(request.id ? { id: request.id } : {}),
    inputs: request.inputs,
    ...(request.outputs ? { outputs: request.outputs.map((output) => ({ name: output })) } : {}),
  });
  const response = await context.aws.call(
    'runtime',
    'InvokeEndpoint',
    ({ module, client }, abortSignal) =>
      client.send(
        new module.InvokeEndpointCommand({
          EndpointName: name,
          ContentType: 'application/json',
          Accept: 'application/json',
          Body: new TextEncoder().encode(body),
        }),
        { abortSignal },
      ),
    signal,
  );
  const text = new TextDecoder().decode(response.Body);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const result = v2ResponseSchema.safeParse(parsed);
  if (!result.success) {
    throw new MlscaleError({
      code: 'BackendFailure',
      provider: 'aws',
      retryable: false,
      message: `Endpoint '${name}' answered with something other than a V2 inference response (content type ${response.ContentType ?? 'unknown'}): ${text.slice(0, 200)}`,
    });
  }
  return {
    modelName: result.data.model_name,
    ...(result.data.model_version ? { modelVersion: result.data.model_version } : {}),
    ...(result.data.id ? { id: result.data.id } : {}),
    outputs: result.data.outputs,
  };
}
