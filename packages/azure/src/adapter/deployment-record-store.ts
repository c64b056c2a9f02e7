import type { OnlineEndpoint } from '@azure/arm-machinelearning';
import { MlscaleError } from '@mlscale/core';
import { type DeploymentRecord, recordFromTags, recordToTags } from '@mlscale/core/provider-utils';
import type { AdapterContext } from './adapter-context.js';
import { managedByValue, recordTagPrefix, tagNames } from './resource-names.js';
import { provider } from './to-mlscale-error.js';

/**
 * Where the deployment record lives: the online endpoint's tags. Tags are what Azure lets change on an
 * endpoint (its `properties` can only be added to, never altered), through the endpoint PATCH, and
 * they hold up to 50 entries of 256 characters: the spec's own tags, mlscale's marker, and the record
 * (sealed, gzipped, base64url) in `mlscale-record-{i}` chunks.
 */
const maximumTags = 50;
const tagValueLength = 256;

/** Whether mlscale made the endpoint. */
export function isManagedEndpoint(endpoint: OnlineEndpoint): boolean {
  return endpoint.tags?.[tagNames.managedBy] === managedByValue;
}

/** The record on an endpoint mlscale made; undefined for other endpoints (or a damaged record). */
export function recordOf(endpoint: OnlineEndpoint): DeploymentRecord | undefined {
  if (!isManagedEndpoint(endpoint)) return undefined;
  return recordFromTags(endpoint.tags ?? {}, recordTagPrefix);
}

/**
 * The endpoint's whole tag set for a record: the desired spec's tags (sealed, as the record holds them),
 * the managed-by marker and the record's chunks. `InvalidSpec` when it does not fit in 50 tags.
 */
export function endpointTags(record: DeploymentRecord): Record<string, string> {
  const own = record.desired.tags ?? {};
  const reserved = Object.keys(own).length + 1;
  try {
    return {
      ...own,
      [tagNames.managedBy]: managedByValue,
      ...recordToTags(record, {
        prefix: recordTagPrefix,
        valueLength: tagValueLength,
        maxChunks: maximumTags - reserved,
      }),
    };
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new MlscaleError({
      code: 'InvalidSpec',
      provider,
      message: `Deployment '${record.desired.name}' cannot be recorded in its endpoint's tags (Azure allows ${maximumTags} tags of ${tagValueLength} characters; the spec has ${reserved - 1} tags of its own): ${error.message}`,
      issues: [{ path: 'tags', message: 'the spec and its tags do not fit in the endpoint tags' }],
    });
  }
}

/** Writes `record` into the endpoint's tags (a PATCH of the tags alone; it replaces the whole set). */
export function saveRecord(
  context: AdapterContext,
  name: string,
  record: DeploymentRecord,
  signal: AbortSignal | undefined,
): Promise<void> {
  const tags = endpointTags(record);
  const { resourceGroup, workspace } = context.settings;
  return context.start(`Recording deployment '${name}' in its endpoint's tags`, signal, (clients, options) =>
    clients.machineLearning.onlineEndpoints.beginUpdate(resourceGroup, workspace, name, { tags }, options),
  );
}
