import { ArmError, badArgument } from './arm-error.js';

/**
 * Rules Azure enforces on what a request may set, as the emulator enforces them. Where the exact error
 * code or wording Azure answers with could not be confirmed, the answer is in Azure ML's style
 * (`{"error":{"code":"UserError",...}}` or ARM's `InvalidTag...`) and says so beside it.
 */

/** Managed online endpoint and deployment names (Azure ML docs, "Endpoint name" limits). */
const onlineNamePattern = /^[a-zA-Z][a-zA-Z0-9-]{1,30}[a-zA-Z0-9]$/;

export function assertOnlineName(kind: 'Endpoint' | 'Deployment', name: string): void {
  if (!onlineNamePattern.test(name)) {
    throw badArgument(
      `${kind} name '${name}' is invalid: it must begin with a letter, consist of letters, digits and hyphens, end with a letter or digit, and be 3 to 32 characters long.`,
    );
  }
}

/** ARM's tag limits (learn.microsoft.com "Use tags to organize your Azure resources", Limitations). */
const maximumTags = 50;
const maximumTagNameLength = 512;
const maximumTagValueLength = 256;
const forbiddenTagNameCharacters = /[<>%&\\?/]/;

/**
 * Checks a resource's tags against ARM's limits: at most 50, names up to 512 characters without
 * `< > % & \ ? /`, values up to 256 characters. ⚠ The error codes are ARM-style names; the exact codes
 * ARM answers with are not confirmed.
 */
export function assertTags(tags: Record<string, string>, where = 'tags'): void {
  const names = Object.keys(tags);
  if (names.length > maximumTags) {
    throw new ArmError(
      400,
      'InvalidTagCount',
      `${where}: a resource can have at most ${maximumTags} tags; the request has ${names.length}.`,
    );
  }
  for (const [name, value] of Object.entries(tags)) {
    if (name.length === 0 || name.length > maximumTagNameLength || forbiddenTagNameCharacters.test(name)) {
      throw new ArmError(
        400,
        'InvalidTagNameCharacters',
        `${where}: the tag name '${name.slice(0, 64)}' is invalid: tag names have 1 to ${maximumTagNameLength} characters and none of '<', '>', '%', '&', '\\', '?', '/'.`,
      );
    }
    if (value.length > maximumTagValueLength) {
      throw new ArmError(
        400,
        'InvalidTagValueLength',
        `${where}: the value of tag '${name}' has ${value.length} characters; at most ${maximumTagValueLength} are allowed.`,
      );
    }
  }
}

/**
 * An online endpoint's or deployment's `properties` dictionary "can be added, but not removed or
 * altered" (the OnlineEndpointProperties reference): a PUT must keep every property it has, with its value.
 * ⚠ The wording Azure answers with is not confirmed; this is Azure ML's `UserError` style.
 */
export function assertPropertiesKept(
  resource: string,
  existing: Record<string, string>,
  next: Record<string, string>,
): void {
  for (const [name, value] of Object.entries(existing)) {
    if (!(name in next)) {
      throw new ArmError(
        400,
        'UserError',
        `${resource}: property '${name}' cannot be removed; properties can be added, but not removed or altered.`,
      );
    }
    if (next[name] !== value) {
      throw new ArmError(
        400,
        'UserError',
        `${resource}: property '${name}' cannot be altered; properties can be added, but not removed or altered.`,
      );
    }
  }
}

/**
 * A deployment can be written only while its endpoint is Succeeded: Azure refuses one "because it is in
 * {state} provisioning state" (the wording Azure/azure-sdk-for-net#36961 quotes, for Creating and
 * Updating endpoints). ⚠ The status code and error code are not confirmed.
 */
export function assertEndpointReady(endpoint: string, state: string): void {
  if (state !== 'Succeeded') {
    throw new ArmError(
      400,
      'UserError',
      `Cannot create a deployment in endpoint ${endpoint} because it is in ${state} provisioning state.`,
    );
  }
}

/** Provisioning states in which an operation runs on an endpoint or deployment. */
const operationStates = new Set(['Creating', 'Updating', 'Scaling']);

/**
 * A write (PUT or PATCH) to an endpoint or deployment while an operation runs on it is refused with
 * 409, to be sent again once the resource's provisioning state is terminal. ⚠ The code and wording are
 * ARM's `RequestConflict` for a resource whose provisioning state is not terminal, as public reports
 * quote it for other resource providers (Microsoft.AAD, Microsoft.CognitiveServices); what Azure ML
 * answers for its online endpoints and deployments is not confirmed (Azure/azure-sdk-for-net#36961
 * quotes only the message for a deployment under an Updating endpoint).
 */
export function assertNoOperationInProgress(resourceId: string, state: string): void {
  if (operationStates.has(state)) throw operationInProgress(resourceId);
}

/** The 409 ARM answers a write to a resource whose provisioning state is not terminal. */
export function operationInProgress(resourceId: string): ArmError {
  return new ArmError(
    409,
    'RequestConflict',
    `Cannot modify resource with id '${resourceId}' because the resource entity provisioning state is not terminal. Please wait for the provisioning state to become terminal and then retry the request.`,
  );
}

/*
 * An online endpoint's traffic maps. The REST reference (OnlineEndpointProperties, the Azure ML
 * 2022-10-01 to 2024-04-01 specs and @azure/arm-machinelearning) types both as `{ [deployment]: int32 }`
 * and says "Traffic values need to sum to 100." of `traffic` and "Traffic values need to sum to utmost
 * 50." of `mirrorTraffic`; the safe-rollout guide (how-to-safely-rollout-online-endpoints, "Test the
 * deployment with mirrored traffic") adds that traffic is mirrored to one deployment at most and that a
 * deployment receives live or mirrored traffic, not both. Azure answers a bad argument with the
 * `BadArgument` code (how-to-troubleshoot-online-endpoints, "ERROR: BadArgument"). ⚠ The exact message
 * Azure puts with it is not confirmed; the emulator answers with the reference's sentence and the value
 * it got, so a test can tell which rule refused.
 */

/** Most mirrored traffic, in percent of all requests, summed over deployments. */
export const maximumMirrorTraffic = 50;

/** A value in a traffic map that is not an integer percentage. */
export function trafficValueRefusal(
  field: 'traffic' | 'mirrorTraffic',
  name: string,
  value: unknown,
): ArmError {
  return badArgument(
    `properties.${field}.${name}: Traffic values are whole percentages from 0 to 100; got ${JSON.stringify(value)}.`,
  );
}

/** A live traffic map whose values add up to neither 100 nor 0 (an endpoint serving nothing yet). */
export function trafficSumRefusal(total: number): ArmError {
  return badArgument(`properties.traffic: Traffic values need to sum to 100; they sum to ${total}.`);
}

/** A mirror traffic map over its limits. */
export function mirrorTrafficRefusal(reason: 'sum' | 'deployments' | 'live', detail: string): ArmError {
  if (reason === 'sum') {
    return badArgument(
      `properties.mirrorTraffic: Traffic values need to sum to utmost ${maximumMirrorTraffic}; they sum to ${detail}.`,
    );
  }
  if (reason === 'deployments') {
    return badArgument(
      `properties.mirrorTraffic: traffic can be mirrored to only one deployment; got ${detail}.`,
    );
  }
  return badArgument(
    `properties.mirrorTraffic: deployment '${detail}' receives live traffic; a deployment receives live or mirrored traffic, not both.`,
  );
}
