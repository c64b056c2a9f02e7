/**
 * One request as the operation it is: the HTTP method and the ARM route without names, such as
 * `PUT onlineEndpoints`, `PUT onlineEndpoints/deployments`, `POST onlineEndpoints/deployments/getLogs`,
 * `PUT models/versions`, `PUT autoscalesettings`, `GET metrics`, `GET mfeOperationsStatus` or
 * `POST score`. This is what the request log holds and what faults are armed for.
 */
export function operationOf(method: string, path: string): string {
  const verb = method.toUpperCase();
  if (/^\/online-scoring\//i.test(path)) return `${verb} score`;
  if (/\/providers\/Microsoft\.Insights\/metrics$/i.test(path)) return `${verb} metrics`;
  if (/\/providers\/Microsoft\.Insights\/autoscalesettings(?:\/|$)/i.test(path))
    return `${verb} autoscalesettings`;
  const poll = /\/locations\/[^/]+\/(mfeOperationsStatus|mfeOperationResults)\//i.exec(path);
  if (poll) return `${verb} ${poll[1]}`;
  const workspace = /\/providers\/Microsoft\.MachineLearningServices\/workspaces\/[^/]+(?:\/(.*))?$/i.exec(
    path,
  );
  if (workspace) {
    const segments = (workspace[1] ?? '').split('/').filter((segment) => segment !== '');
    // Collections and actions sit at even positions (`onlineEndpoints/{name}/deployments/{name}/getLogs`).
    const route = segments.filter((_, index) => index % 2 === 0).map(decodeURIComponent);
    return `${verb} ${route.length === 0 ? 'workspaces' : route.join('/')}`;
  }
  return `${verb} ${path}`;
}

/** POST actions that only read (keys, tokens, logs, datastore secrets). */
const readingActions = new Set(['listkeys', 'token', 'getlogs', 'listsecrets']);

/** Whether an operation changes what the cloud holds (faults are swept over these). */
export function isMutatingOperation(operation: string): boolean {
  const [verb = '', route = ''] = operation.split(' ');
  if (verb === 'PUT' || verb === 'PATCH' || verb === 'DELETE') return true;
  if (verb !== 'POST' || route === 'score') return false;
  const action = route.split('/').at(-1)?.toLowerCase() ?? '';
  return !readingActions.has(action);
}

/**
 * The Azure RBAC action a request needs (what an `AuthorizationFailed` refusal names), such as
 * `Microsoft.MachineLearningServices/workspaces/onlineEndpoints/write`.
 */
export function authorizationActionOf(method: string, path: string): string {
  const verb = method.toUpperCase();
  const suffix =
    verb === 'GET' ? 'read' : verb === 'DELETE' ? 'delete' : verb === 'POST' ? 'action' : 'write';
  if (/\/providers\/Microsoft\.Insights\/autoscalesettings(?:\/|$)/i.test(path))
    return `microsoft.insights/autoscalesettings/${suffix}`;
  if (/\/providers\/Microsoft\.Insights\/metrics$/i.test(path)) return 'microsoft.insights/metrics/read';
  const route = operationOf(method, path).split(' ')[1] ?? '';
  const resource = route === 'workspaces' ? '' : `/${route}`;
  return `Microsoft.MachineLearningServices/workspaces${resource}/${suffix}`;
}
