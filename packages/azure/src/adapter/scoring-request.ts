import {
  MlscaleError,
  type PredictRequest,
  type PredictResponse,
  parseRetryAfter,
  redactText,
} from '@mlscale/core';
import type { AdapterContext } from './adapter-context.js';
import type { EndpointSnapshot } from './deployment-observation.js';
import { provider, toMlscaleError } from './to-mlscale-error.js';

/** The bearer value for the endpoint's auth mode: a key, an AML token, or a Microsoft Entra token. */
async function scoringCredential(
  context: AdapterContext,
  snapshot: EndpointSnapshot,
  signal: AbortSignal | undefined,
): Promise<string> {
  const { settings } = context;
  const name = snapshot.endpoint.name ?? '';
  const mode = (snapshot.endpoint.properties.authMode ?? 'Key').toLowerCase();
  if (mode === 'key') {
    const keys = await context.call(`Reading the keys of endpoint '${name}'`, (clients) =>
      clients.machineLearning.onlineEndpoints.listKeys(settings.resourceGroup, settings.workspace, name, {
        abortSignal: signal,
      }),
    );
    if (keys.primaryKey) return keys.primaryKey;
  } else if (mode === 'amltoken') {
    const token = await context.call(`Reading a token for endpoint '${name}'`, (clients) =>
      clients.machineLearning.onlineEndpoints.getToken(settings.resourceGroup, settings.workspace, name, {
        abortSignal: signal,
      }),
    );
    if (token.accessToken) return token.accessToken;
  } else {
    const clients = await context.clients();
    const token = await clients.credential.getToken('https://ml.azure.com/.default', { abortSignal: signal });
    if (token?.token) return token.token;
  }
  throw new MlscaleError({
    code: 'Unauthorized',
    provider,
    message: `Endpoint '${name}' gave no key or token to score with.`,
  });
}

function statusCodeError(
  status: number,
  name: string,
  text: string,
  retryAfter: string | undefined,
): MlscaleError {
  const detail = redactText(text.slice(0, 500));
  const code =
    status === 400 || status === 422
      ? 'InvalidSpec'
      : status === 401 || status === 403
        ? 'Unauthorized'
        : status === 404
          ? 'NotFound'
          : status === 429
            ? 'Throttled'
            : 'BackendFailure';
  const retryAfterMs = parseRetryAfter(retryAfter);
  return new MlscaleError({
    code,
    provider,
    statusCode: status,
    message: `Scoring endpoint '${name}' answered ${status}: ${detail}`,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    retryable: code === 'Throttled' || status === 503,
  });
}

/** Sends one V2 inference request to the endpoint's scoring URI with its key or token. */
export async function scoreRequest(
  context: AdapterContext,
  snapshot: EndpointSnapshot,
  request: PredictRequest,
  signal: AbortSignal | undefined,
): Promise<PredictResponse> {
  const name = snapshot.endpoint.name ?? '';
  const scoringUri = snapshot.endpoint.properties.scoringUri;
  if (!scoringUri) {
    throw new MlscaleError({
      code: 'Conflict',
      provider,
      message: `Endpoint '${name}' has no scoring URI yet; wait until it is InService.`,
    });
  }
  const bearer = await scoringCredential(context, snapshot, signal);
  const { createHttpHeaders, createPipelineRequest, createDefaultHttpClient } = await import(
    '@azure/core-rest-pipeline'
  );
  const clients = await context.clients();
  const body = {
    ...(request.id ? { id: request.id } : {}),
    inputs: request.inputs,
    ...(request.outputs ? { outputs: request.outputs.map((output) => ({ name: output })) } : {}),
  };
  const pipelineRequest = createPipelineRequest({
    url: scoringUri,
    method: 'POST',
    body: JSON.stringify(body),
    headers: createHttpHeaders({
      'content-type': 'application/json',
      accept: 'application/json',
      authorization: `Bearer ${bearer}`,
    }),
    ...(signal ? { abortSignal: signal } : {}),
  });
  let response: Awaited<ReturnType<typeof clients.scoringPipeline.sendRequest>>;
  try {
    response = await clients.scoringPipeline.sendRequest(createDefaultHttpClient(), pipelineRequest);
  } catch (error) {
    throw toMlscaleError(error, `Scoring endpoint '${name}'`);
  }
  const text = response.bodyAsText ?? '';
  if (response.status < 200 || response.status >= 300) {
    throw statusCodeError(response.status, name, text, response.headers.get('retry-after'));
  }
  let parsed: {
    id?: string;
    model_name?: string;
    model_version?: string;
    outputs?: PredictResponse['outputs'];
  };
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new MlscaleError({
      code: 'BackendFailure',
      provider,
      message: `Scoring endpoint '${name}' answered with a body that is not JSON.`,
    });
  }
  if (!Array.isArray(parsed.outputs)) {
    throw new MlscaleError({
      code: 'BackendFailure',
      provider,
      message: `Scoring endpoint '${name}' answered without "outputs"; is the deployment serving the Open Inference Protocol (V2)?`,
    });
  }
  return {
    ...(parsed.id ? { id: parsed.id } : {}),
    modelName: parsed.model_name ?? name,
    ...(parsed.model_version ? { modelVersion: parsed.model_version } : {}),
    outputs: parsed.outputs,
  };
}
