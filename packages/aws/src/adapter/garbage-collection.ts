import { MlscaleError } from '@mlscale/core';
import { type DeploymentRecord, recordPhase } from '@mlscale/core/provider-utils';
import type { AdapterContext } from './adapter-context.js';
import { fleetNames } from './deployment-fleet.js';
import { type DeploymentObservation, readTags } from './deployment-observation.js';
import { type CreatedResource, deleteResource } from './deployment-resources.js';
import { readRecordTags } from './endpoint-record.js';
import { configOfModelName, isConfigNameOf } from './resource-names.js';
import { tagKeys } from './resource-tags.js';
import { removeRollbackAlarm } from './rollback-alarm.js';

/** An endpoint config or model named for a deployment, with its ARN (to check its tags). */
interface OwnedCandidate extends CreatedResource {
  arn: string;
  /** For a model: the config its name belongs to. */
  config: string;
  /** When SageMaker made it (from the list call); undefined when it did not say. */
  createdAt: Date | undefined;
}

/**
 * The endpoint configs and models named for deployment `name` (ListEndpointConfigs and ListModels with
 * NameContains, through the SDK's paginators), including any a crashed process made before it recorded
 * anything. Names alone do not make them mlscale's: `isOwned` checks the tag before anything is deleted.
 */
async function namedFor(
  context: AdapterContext,
  name: string,
  signal: AbortSignal | undefined,
): Promise<OwnedCandidate[]> {
  const found: OwnedCandidate[] = [];
  const configs = context.aws.items(
    'sageMaker',
    'ListEndpointConfigs',
    ({ module, client }, abortSignal) =>
      module.paginateListEndpointConfigs(
        { client, stopOnSameToken: true, pageSize: 100 },
        { NameContains: name },
        { abortSignal },
      ),
    (page) => ({ items: page.EndpointConfigs, nextToken: page.NextToken }),
    signal,
  );
  for await (const config of configs) {
    const configName = config.EndpointConfigName ?? '';
    if (config.EndpointConfigArn && isConfigNameOf(name, configName))
      found.push({
        kind: 'endpoint config',
        name: configName,
        arn: config.EndpointConfigArn,
        config: configName,
        createdAt: config.CreationTime,
      });
  }
  const models = context.aws.items(
    'sageMaker',
    'ListModels',
    ({ module, client }, abortSignal) =>
      module.paginateListModels(
        { client, stopOnSameToken: true, pageSize: 100 },
        { NameContains: name },
        { abortSignal },
      ),
    (page) => ({ items: page.Models, nextToken: page.NextToken }),
    signal,
  );
  for await (const model of models) {
    const config = configOfModelName(name, model.ModelName ?? '');
    if (model.ModelArn && config)
      found.push({
        kind: 'model',
        name: model.ModelName!,
        arn: model.ModelArn,
        config,
        createdAt: model.CreationTime,
      });
  }
  return found;
}

async function isOwned(
  context: AdapterContext,
  name: string,
  candidate: OwnedCandidate,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  return (await readTags(context, candidate.arn, signal))[tagKeys.deployment] === name;
}

/** The endpoint configs a record's specs run on. */
function configsOf(record: DeploymentRecord): string[] {
  return [record.desired, ...(record.serving ? [record.serving] : [])].map(
    (spec) => fleetNames(spec).endpointConfig,
  );
}

/**
 * The configs (fleets: a config and its models) to keep: those the endpoint runs, those the desired
 * and serving specs run on, of the record read before the step and of the one read again now, and
 * every fleet with a part made within `minimumAgeSeconds`.
 *
 * Why both guards: `observation` may be stale. Another process may have recorded a new spec since it
 * was read (its doUpdate makes the new fleet, then saves the record, then its waiter rolls out): the
 * record read again right before deleting protects that fleet. And between making the fleet and saving
 * the record there is no record of it at all: only its age says it may be about to be used. A fleet a
 * crashed process left is collected once it is older than that.
 */
function fleetsToKeep(
  context: AdapterContext,
  observation: DeploymentObservation,
  fresh: DeploymentRecord,
  candidates: readonly OwnedCandidate[],
): Set<string> {
  const keep = new Set([...configsOf(observation.record), ...configsOf(fresh)]);
  if (observation.endpoint.EndpointConfigName) keep.add(observation.endpoint.EndpointConfigName);
  const cutoff = Date.now() - context.settings.garbageCollection.minimumAgeSeconds * 1000;
  for (const candidate of candidates) {
    if (!candidate.createdAt || candidate.createdAt.getTime() > cutoff) keep.add(candidate.config);
  }
  return keep;
}

/**
 * Upkeep of a deployment that serves as recorded: deletes its endpoint configs and models that no
 * recorded spec nor the endpoint uses and that are not new (see `fleetsToKeep`: what an update
 * replaced, a refused or rolled back update made, or a crashed process left), and the rollback alarm
 * once the record read again wants no update (stale record tags go with the next save). Best
 * effort: a failure is left for the next reconcile (it must not fail a deployment that serves); an
 * abort is thrown. Nothing is collected when the record read again is damaged or asks for deletion.
 */
export async function collectGarbage(
  context: AdapterContext,
  observation: DeploymentObservation,
  signal: AbortSignal | undefined,
): Promise<void> {
  const bestEffort = async (work: () => Promise<unknown>) => {
    try {
      await work();
    } catch (error) {
      if (signal?.aborted || MlscaleError.hasCode(error, 'Aborted')) throw error;
    }
  };
  const { name } = observation;
  await bestEffort(async () => {
    const candidates = await namedFor(context, name, signal);
    // The record as it is now, read after the listing and right before anything is deleted.
    const tags = await readTags(context, observation.arn, signal);
    const fresh = readRecordTags(name, tags, undefined);
    if (fresh.kind !== 'record' || fresh.record.deleting) return;
    const keep = fleetsToKeep(context, observation, fresh.record, candidates);
    const unused = candidates.filter((candidate) => !keep.has(candidate.config));
    // Configs first, so a model is never left referenced by a config that still exists.
    const ordered = [
      ...unused.filter((candidate) => candidate.kind === 'endpoint config'),
      ...unused.filter((candidate) => candidate.kind === 'model'),
    ];
    for (const candidate of ordered) {
      await bestEffort(async () => {
        if (await isOwned(context, name, candidate, signal)) await deleteResource(context, candidate, signal);
      });
    }
    // Another process's rollout may be about to use the alarm.
    if (recordPhase(fresh.record) === 'converged') await removeRollbackAlarm(context, name, signal);
  });
}

/**
 * Removes every endpoint config and model of deployment `name` and its rollback alarm, once it has no
 * endpoint (after a delete, or what a crashed first deploy left). Failures are thrown: a delete is not
 * done until this is. Returns how many were removed.
 */
export async function removeLeftovers(
  context: AdapterContext,
  name: string,
  signal: AbortSignal | undefined,
): Promise<number> {
  const candidates = await namedFor(context, name, signal);
  let removed = 0;
  for (const kind of ['endpoint config', 'model'] as const) {
    for (const candidate of candidates.filter((entry) => entry.kind === kind)) {
      if (!(await isOwned(context, name, candidate, signal))) continue;
      await deleteResource(context, candidate, signal);
      removed++;
    }
  }
  if (await removeRollbackAlarm(context, name, signal)) removed++;
  return removed;
}
