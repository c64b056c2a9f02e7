import type { EmulatorContext, EmulatorReply, EmulatorRequest } from './emulator-context.js';
import { ScoringError } from './predictor.js';
import { type DeploymentRecord, type EndpointRecord, key } from './state.js';

const scoringPattern = /^\/online-scoring\/([^/]+)\/score$/i;

function error(status: number, message: string): EmulatorReply {
  return { status, body: { error: message } };
}

/**
 * The endpoints' scoring URIs (`https://{endpoint}.{region}.inference.ml.azure.com/score`, which the
 * redirect policy maps to `/online-scoring/{endpoint}/score`): checks the key or token, routes by the
 * `azureml-model-deployment` header or by traffic weights, and answers with the predictor.
 */
export async function handleScoring(
  context: EmulatorContext,
  request: EmulatorRequest,
): Promise<EmulatorReply | undefined> {
  const match = scoringPattern.exec(request.path);
  if (!match) return undefined;
  if (request.method !== 'POST') return error(405, 'Use POST to score.');
  const endpoint = findEndpointByName(context, decodeURIComponent(match[1] ?? ''));
  if (!endpoint || endpoint.deletingAt !== undefined) return error(404, 'No such endpoint.');
  if (endpoint.resource.properties.publicNetworkAccess === 'Disabled') {
    return error(403, 'Public network access to this endpoint is disabled.');
  }
  const authorization = String(request.headers.authorization ?? '');
  const presented = /^Bearer\s+(.+)$/i.exec(authorization)?.[1];
  if (!presented || !authorized(endpoint, presented)) return error(401, 'Missing or invalid key or token.');
  const deployment = chooseDeployment(endpoint, request.headers['azureml-model-deployment']);
  if (typeof deployment === 'string') return error(404, deployment);
  if (deployment.resource.properties.provisioningState !== 'Succeeded') {
    return error(
      503,
      `Deployment '${deployment.resource.name}' is ${deployment.resource.properties.provisioningState}.`,
    );
  }
  const started = performance.now();
  let reply: EmulatorReply;
  try {
    const body = await context.predictor(request.body, {
      endpoint: endpoint.resource.name,
      deployment: deployment.resource.name,
      model:
        typeof deployment.resource.properties.model === 'string'
          ? deployment.resource.properties.model
          : undefined,
      environmentVariables: (deployment.resource.properties.environmentVariables ?? {}) as Record<
        string,
        string
      >,
    });
    reply = { status: 200, body, headers: { 'azureml-model-deployment': deployment.resource.name } };
  } catch (thrown) {
    reply =
      thrown instanceof ScoringError
        ? error(thrown.statusCode, thrown.message)
        : error(
            500,
            `The scoring container failed: ${thrown instanceof Error ? thrown.message : String(thrown)}`,
          );
  }
  const latencyMs = performance.now() - started;
  const now = context.now();
  context.state.samples.push({
    time: now,
    endpointId: key(endpoint.resource.id),
    deployment: deployment.resource.name,
    statusCode: reply.status,
    latencyMs,
  });
  deployment.inferenceServerLog.push(
    `${new Date(now).toISOString()} POST /score ${reply.status} ${latencyMs.toFixed(2)}ms`,
  );
  return reply;
}

function findEndpointByName(context: EmulatorContext, name: string): EndpointRecord | undefined {
  for (const workspace of context.state.workspaces.values()) {
    const endpoint = workspace.endpoints.get(key(name));
    if (endpoint) return endpoint;
  }
  return undefined;
}

function authorized(endpoint: EndpointRecord, presented: string): boolean {
  const mode = String(endpoint.resource.properties.authMode).toLowerCase();
  if (mode === 'key')
    return presented === endpoint.keys.primaryKey || presented === endpoint.keys.secondaryKey;
  if (mode === 'amltoken') return presented === endpoint.token;
  // AAD tokens are checked by Azure's identity platform; the emulator accepts any bearer token.
  return presented.length > 0;
}

/**
 * The deployment named by the header, or one chosen by traffic weight with smooth weighted round-robin
 * (nginx's): deterministic, exact over every 100 requests and evenly spread (90/10 sends every tenth
 * request to the 10% deployment).
 */
function chooseDeployment(
  endpoint: EndpointRecord,
  header: string | string[] | undefined,
): DeploymentRecord | string {
  const named = Array.isArray(header) ? header[0] : header;
  if (named) {
    return (
      endpoint.deployments.get(key(named)) ?? `Deployment '${named}' does not exist under this endpoint.`
    );
  }
  const traffic = Object.entries((endpoint.resource.properties.traffic ?? {}) as Record<string, number>)
    .filter(([, weight]) => weight > 0)
    .sort(([left], [right]) => left.localeCompare(right));
  if (traffic.length === 0) {
    return 'No valid deployments to route to. Give a deployment traffic or use the azureml-model-deployment header.';
  }
  const total = traffic.reduce((sum, [, weight]) => sum + weight, 0);
  let chosen: string | undefined;
  let best = Number.NEGATIVE_INFINITY;
  for (const [name, weight] of traffic) {
    const current = (endpoint.routingWeights.get(key(name)) ?? 0) + weight;
    endpoint.routingWeights.set(key(name), current);
    if (current > best) {
      best = current;
      chosen = name;
    }
  }
  const chosenKey = key(chosen ?? '');
  endpoint.routingWeights.set(chosenKey, (endpoint.routingWeights.get(chosenKey) ?? 0) - total);
  return endpoint.deployments.get(chosenKey) ?? 'No valid deployments to route to.';
}
