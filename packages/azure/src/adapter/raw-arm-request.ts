import type { AzureClients } from './azure-clients.js';

/**
 * Sends one ARM request through the Machine Learning client's own pipeline (signing, retries, the
 * caller's policies) without the SDK's serializer. Used where @azure/arm-machinelearning 2.1.1
 * serializes wrongly: it files `uri_folder` job inputs and outputs under `AssetJobInput`, so the
 * `JobInput` dictionary drops their `uri` and `mode`. Non-2xx answers throw a `RestError` like the
 * SDK's, with the service's code.
 */
export async function rawArmRequest<Result>(
  clients: AzureClients,
  request: {
    method: 'PUT' | 'GET';
    path: string;
    apiVersion: string;
    body?: unknown;
    signal?: AbortSignal | undefined;
  },
  endpoint: string,
): Promise<Result> {
  const { createHttpHeaders, createPipelineRequest, RestError } = await import('@azure/core-rest-pipeline');
  const pipelineRequest = createPipelineRequest({
    url: `${endpoint}${request.path}?api-version=${request.apiVersion}`,
    method: request.method,
    headers: createHttpHeaders({ 'content-type': 'application/json', accept: 'application/json' }),
    ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
    ...(request.signal ? { abortSignal: request.signal } : {}),
  });
  const response = await clients.machineLearning.sendRequest(pipelineRequest);
  const text = response.bodyAsText ?? '';
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (response.status >= 200 && response.status < 300) return parsed as Result;
  const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
  throw new RestError(error?.message ?? `HTTP ${response.status}`, {
    ...(error?.code ? { code: error.code } : {}),
    statusCode: response.status,
    request: pipelineRequest,
    response,
  });
}
