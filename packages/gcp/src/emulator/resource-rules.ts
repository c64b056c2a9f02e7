import { statusError } from './grpc-status.js';

/**
 * What Vertex refuses about resource ids, labels and traffic splits, with INVALID_ARGUMENT. Sources:
 * the field comments of `endpoint_service.proto`, `model_service.proto` and `endpoint.proto` in
 * @google-cloud/aiplatform (ids, splits), and Google Cloud's label requirements
 * (cloud.google.com/resource-manager/docs/labels-overview: at most 64 labels, keys and values of at most
 * 63 characters, lowercase letters, digits, `_` and `-`, keys starting with a letter).
 */

/** `CreateEndpointRequest.endpoint_id`: a letter first then ≤ 63 of `[a-z0-9-]` ending in a letter or digit, or ≤ 9 digits without a leading zero. */
export function checkEndpointId(id: string): void {
  if (/^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(id) || /^[1-9][0-9]{0,8}$/.test(id)) return;
  throw statusError(
    'INVALID_ARGUMENT',
    `Invalid endpoint_id "${id}": if the first character is a letter, it may be up to 63 characters of [a-z0-9-] ending in a letter or number; if it is a number, up to 9 digits with no leading zeros.`,
  );
}

/** `UploadModelRequest.model_id`: up to 63 of `[a-z0-9_-]`, not starting with a digit or a hyphen. */
export function checkModelId(id: string): void {
  if (/^[a-z_][a-z0-9_-]{0,62}$/.test(id)) return;
  throw statusError(
    'INVALID_ARGUMENT',
    `Invalid model_id "${id}": it may be up to 63 characters of [a-z0-9_-], and the first character cannot be a number or hyphen.`,
  );
}

/** `DeployedModel.id`: 1 to 10 digits. */
export function checkDeployedModelId(id: string): void {
  if (/^[0-9]{1,10}$/.test(id)) return;
  throw statusError(
    'INVALID_ARGUMENT',
    `Invalid deployed model id "${id}": it should be 1-10 characters of [0-9].`,
  );
}

const labelCharacters = /^[\p{Ll}\p{Lo}\p{N}_-]*$/u;

/** Labels of an endpoint, a model or a job. */
export function checkLabels(labels: Record<string, string> | undefined, field: string): void {
  const entries = Object.entries(labels ?? {});
  if (entries.length > 64)
    throw statusError('INVALID_ARGUMENT', `${field} has ${entries.length} labels; at most 64 are allowed.`);
  for (const [key, value] of entries) {
    const keyLength = [...key].length;
    if (keyLength < 1 || keyLength > 63 || !/^\p{Ll}/u.test(key) || !labelCharacters.test(key)) {
      throw statusError(
        'INVALID_ARGUMENT',
        `${field}: label key "${key}" is invalid: keys have 1-63 characters, start with a lowercase letter, and contain only lowercase letters, numeric characters, underscores and dashes.`,
      );
    }
    if ([...value].length > 63 || !labelCharacters.test(value)) {
      throw statusError(
        'INVALID_ARGUMENT',
        `${field}: the value of label "${key}" is invalid: values have at most 63 characters and contain only lowercase letters, numeric characters, underscores and dashes.`,
      );
    }
  }
}

/**
 * A traffic split, as Vertex takes it: each key a deployed model on the endpoint, each value a whole
 * percentage, together 100, or the map empty (no traffic). endpoint.proto (Endpoint.traffic_split):
 * "The traffic percentage values must add up to 100, or map must be empty if the Endpoint is to not
 * accept any traffic at a moment"; endpoint_service.proto (DeployModelRequest.traffic_split): "To refer
 * to the ID of the just being deployed Model, a "0" should be used ... The traffic percentage values
 * must add up to 100." A DeployModel split (`deploying`) must therefore name the new model as "0" (at 0
 * for a model deployed beside the serving one). Wording: the unknown-id refusal is Vertex's ("The
 * following DeployedModel ID(s) [0] do not exist.", quoted in GoogleCloudPlatform/java-docs-samples#8475);
 * for the sum, the service's own text was not found in public sources, so the refusal quotes the
 * documented rule, as Google's Python SDK does before it calls ("Sum of all traffic within traffic split
 * needs to be 100.", googleapis/python-aiplatform models.py) (⚠ the service's exact words may differ).
 * A DeployModel split without "0": no public source quotes the service's refusal, so the message says
 * the documented rule in its words (⚠ wording ours).
 * Values travel as int32, so a fraction never reaches the service over gRPC; the check stands for
 * in-process callers.
 */
export function checkTrafficSplit(
  split: Record<string, number>,
  knownIds: ReadonlySet<string>,
  options: { deploying?: boolean } = {},
): void {
  const entries = Object.entries(split);
  if (entries.length === 0) return;
  const unknown = entries
    .map(([id]) => id)
    .filter((id) => !knownIds.has(id) && !(options.deploying && id === '0'));
  if (unknown.length > 0)
    throw statusError(
      'INVALID_ARGUMENT',
      `The following DeployedModel ID(s) [${unknown.join(', ')}] do not exist.`,
    );
  if (options.deploying && !('0' in split)) {
    throw statusError(
      'INVALID_ARGUMENT',
      'The traffic split does not include the DeployedModel being deployed: refer to it with the ID "0".',
    );
  }
  let total = 0;
  for (const [id, percent] of entries) {
    if (!Number.isInteger(percent) || percent < 0 || percent > 100) {
      throw statusError(
        'INVALID_ARGUMENT',
        `The traffic percentage of DeployedModel ${id} must be an integer from 0 to 100, got ${percent}.`,
      );
    }
    total += percent;
  }
  if (total !== 100)
    throw statusError(
      'INVALID_ARGUMENT',
      `Sum of all traffic within traffic split needs to be 100, got ${total}: the traffic percentage values must add up to 100.`,
    );
}
