import { InferenceError } from '../deployments/inference-types.js';

/** What a request asks of the server, once its method and path are matched. */
export type RouteName =
  | 'infer'
  | 'serverLive'
  | 'serverReady'
  | 'ping'
  | 'invocations'
  | 'predict'
  | 'serverMetadata'
  | 'metrics'
  | 'modelMetadata'
  | 'modelReady';

/** A matched route: its name, whether it needs the token, and what the path named. */
export interface MatchedRoute {
  name: RouteName;
  /** Health routes never need the token (platform probes do not send one). */
  open: boolean;
  /** The model version the path names (`/versions/{v}`), decoded. */
  version?: string;
}

/** One entry: a method and the path's segments; `:model`, `:version` and `:any` match one segment. */
interface RouteEntry {
  method: 'GET' | 'POST';
  segments: readonly string[];
  name: RouteName;
  open?: boolean;
}

const table: readonly RouteEntry[] = [
  { method: 'POST', segments: ['v2', 'models', ':model', 'infer'], name: 'infer' },
  { method: 'POST', segments: ['v2', 'models', ':model', 'versions', ':version', 'infer'], name: 'infer' },
  { method: 'GET', segments: ['v2', 'health', 'live'], name: 'serverLive', open: true },
  { method: 'GET', segments: ['v2', 'health', 'ready'], name: 'serverReady', open: true },
  { method: 'GET', segments: ['ping'], name: 'ping', open: true },
  { method: 'POST', segments: ['invocations'], name: 'invocations' },
  { method: 'POST', segments: ['endpoints', ':model', 'invocations'], name: 'invocations' },
  // Vertex's raw predict path: the last segment is `{endpoint}:predict`.
  {
    method: 'POST',
    segments: ['v1', 'projects', ':any', 'locations', ':any', 'endpoints', ':predict'],
    name: 'predict',
  },
  { method: 'GET', segments: ['v2'], name: 'serverMetadata' },
  { method: 'GET', segments: ['metrics'], name: 'metrics' },
  { method: 'GET', segments: ['v2', 'models', ':model'], name: 'modelMetadata' },
  { method: 'GET', segments: ['v2', 'models', ':model', 'versions', ':version'], name: 'modelMetadata' },
  { method: 'GET', segments: ['v2', 'models', ':model', 'ready'], name: 'modelReady' },
  {
    method: 'GET',
    segments: ['v2', 'models', ':model', 'versions', ':version', 'ready'],
    name: 'modelReady',
  },
];

/** Where a request goes: a route, or the error to answer once the token is checked (404, 405). */
export type RouteMatch = MatchedRoute | { error: InferenceError; open: false };

/**
 * Matches a request to the table: the served model's routes, the platforms' fixed paths, and the
 * Vertex variables' routes (`AIP_PREDICT_ROUTE`, `AIP_HEALTH_ROUTE`) when set. A path of the table
 * with another method is a 405; another model's name a 404 naming it; anything else a 404 listing the
 * routes. Order does not matter: at most one entry matches a path and method.
 */
export function createRouteMatcher(options: {
  modelName: string;
  predictRoute?: string | undefined;
  healthRoute?: string | undefined;
}): (method: string, path: string) => RouteMatch {
  return (method, path) => {
    if (options.healthRoute !== undefined && path === options.healthRoute && method === 'GET') {
      return { name: 'ping', open: true };
    }
    if (options.predictRoute !== undefined && path === options.predictRoute && method === 'POST') {
      return { name: 'predict', open: false };
    }
    const parts = path.split('/').slice(1);
    let pathMatched = false;
    for (const entry of table) {
      const captured = capture(entry.segments, parts);
      if (!captured) continue;
      pathMatched = true;
      if (entry.method !== method) continue;
      if (captured.model !== undefined && captured.model !== options.modelName) {
        const kind = entry.segments[0] === 'endpoints' ? 'endpoint' : 'model';
        return {
          error: notFound(
            kind === 'endpoint'
              ? `endpoint '${captured.model}' is not served here; this server serves '${options.modelName}'`
              : `unknown model '${captured.model}'`,
          ),
          open: false,
        };
      }
      return {
        name: entry.name,
        open: entry.open === true,
        ...(captured.version === undefined ? {} : { version: captured.version }),
      };
    }
    if (pathMatched || knownPrefix(parts[0])) {
      return pathMatched
        ? {
            error: new InferenceError(
              405,
              `method ${method} is not allowed on ${path}`,
              'method_not_allowed',
            ),
            open: false,
          }
        : { error: notFound(`no route for ${path}`), open: false };
    }
    return {
      error: notFound(
        `no route ${method} ${path}; expected /v2/..., /ping, /invocations, /endpoints/{name}/invocations, /v1/...:predict or /metrics`,
      ),
      open: false,
    };
  };
}

function capture(
  segments: readonly string[],
  parts: readonly string[],
): { model?: string; version?: string } | undefined {
  if (segments.length !== parts.length) return undefined;
  const captured: { model?: string; version?: string } = {};
  for (let index = 0; index < segments.length; index++) {
    const segment = segments[index]!;
    const part = parts[index]!;
    if (segment === ':model') captured.model = decodePathSegment(part);
    else if (segment === ':version') captured.version = decodePathSegment(part);
    else if (segment === ':predict') {
      if (!part.endsWith(':predict') || part.length === ':predict'.length) return undefined;
    } else if (segment === ':any') {
      if (part === '') return undefined;
    } else if (segment !== part) return undefined;
  }
  return captured;
}

function knownPrefix(first: string | undefined): boolean {
  return (
    first === 'v2' ||
    first === 'ping' ||
    first === 'invocations' ||
    first === 'metrics' ||
    first === 'endpoints'
  );
}

function notFound(message: string): InferenceError {
  return new InferenceError(404, message, 'not_found');
}

/** A %-encoded path segment; a malformed escape is the client's 400, not a URIError. */
export function decodePathSegment(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new InferenceError(
      400,
      `malformed %-encoding in the path segment ${JSON.stringify(text.slice(0, 80))}`,
      'invalid_request',
    );
  }
}
