import { MlscaleError } from '@mlscale/core';
import type { AdapterContext } from './adapter-context.js';
import { type DeploymentObservation, readTags } from './deployment-observation.js';
import { type CreatedResource, deleteResource } from './deployment-resources.js';
import { leftoverTagKeys, removeStaleTags } from './endpoint-record.js';
import { configOfModelName, isConfigNameOf } from './resource-names.js';
import { tagKeys } from './resource-tags.js';
import { removeRollbackAlarm } from './rollback-alarm.js';

/** An endpoint config or model named for a deployment, with its ARN (to check its tags). */
interface OwnedCandidate extends CreatedResource {
  arn: string;
  /** For a model: the config its name belongs to. */
  config: string;
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
      found.push({ kind: 'model', name: model.ModelName!, arn: model.ModelArn, config });
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

/**
 * Upkeep of a deployment that serves as recorded: deletes its endpoint configs and models that neither
 * the desired nor the serving spec nor the endpoint uses (what an update replaced, a refused or rolled
 * back update made, or a crashed process left), the rollback alarm once no update needs it, and record
 * tags an earlier save could not remove. Best effort: a failure is left for the next reconcile (it must
 * not fail a deployment that serves); an abort is thrown.
 */
export async function collectGarbage(
  context: AdapterContext,
  observation: DeploymentObservation,
  keepConfigs: ReadonlySet<string>,
  signal: AbortSignal | undefined,
): Promise<void> {
  const bestEffort = async (work: () => Promise<unknown>) => {
    try {
      await work();
    } catch (error) {
      if (signal?.aborted || MlscaleError.hasCode(error, 'Aborted')) throw error;
    }
  };
  await bestEffort(async () => {
    const unused = (await namedFor(context, observation.name, signal)).filter(
      (candidate) => !keepConfigs.has(candidate.config),
    );
    // Configs first, so a model is never left referenced by a config that still exists.
    const ordered = [
      ...unused.filter((candidate) => candidate.kind === 'endpoint config'),
      ...unused.filter((candidate) => candidate.kind === 'model'),
    ];
    for (const candidate of ordered) {
      await bestEffort(async () => {
        if (await isOwned(context, observation.name, candidate, signal))
          await deleteResource(context, candidate, signal);
      });
    }
  });
  await bestEffort(() => removeRollbackAlarm(context, observation.name, signal));
  await removeStaleTags(context, observation, leftoverTagKeys(observation), signal);
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
