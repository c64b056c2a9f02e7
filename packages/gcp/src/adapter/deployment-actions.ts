import { MlscaleError, redactText } from '@mlscale/core';
import {
  type DeploymentRecord,
  recordPhase,
  type SecretMemory,
  type StepOutcome,
} from '@mlscale/core/provider-utils';
import { stageArtifact } from './artifacts.js';
import { type AdapterContext, clientsOf } from './context.js';
import { newestVertexTime, type VertexObservation } from './deployment-observation.js';
import type { StepAction } from './deployment-plan.js';
import {
  type ChangeProgress,
  describeDeployment,
  endpointLabels,
  freshProgress,
} from './deployment-store.js';
import type { Target } from './deployment-targets.js';
import {
  deleteEndpoint,
  deployModel,
  type IEndpoint,
  mutateDeployedModel,
  undeployModel,
  updateEndpoint,
} from './endpoint-calls.js';
import { provider, statusError } from './errors.js';
import {
  resolveRegistryVersion,
  servingContainer,
  startDeleteModel,
  startUploadModel,
} from './model-resolver.js';
import { signatureOfArtifact } from './model-signatures.js';
import { labelKeys, tagLabels } from './names.js';
import { deployedModelHealth } from './rollout-health.js';
import { containerLookup } from './serving-environment.js';
import { describeVersion } from './version-record.js';

/** What carrying out one step needs. */
export interface StepContext {
  context: AdapterContext;
  secrets: SecretMemory;
  record: DeploymentRecord;
  observation: VertexObservation;
  signal: AbortSignal | undefined;
}

/**
 * Carries out one planned action: at most one long-running operation started, never awaited (the next
 * step, in this process or another, finds it among the resource's operations).
 */
export async function runAction(action: StepAction, step: StepContext): Promise<StepOutcome> {
  const { context, record, observation, signal } = step;
  const endpoint = observation.endpoint.name!;
  switch (action.kind) {
    case 'wait':
      return 'progressing';
    case 'converged':
      return 'converged';
    case 'refuse':
      throw statusError(
        action.operation.error ?? {},
        `${action.operation.kind} (operation ${action.operation.name})`,
      );
    case 'uploadModel':
      return uploadModel(step, action.target);
    case 'deployModel': {
      const { model, versionId } = await modelVersionOf(step, action.target);
      try {
        await deployModel(
          context,
          endpoint,
          {
            id: action.target.deployedModelId,
            model,
            displayName: action.target.displayName(versionId),
            dedicatedResources: action.target.resources,
          },
          action.trafficSplit,
          signal,
        );
      } catch (error) {
        // The id is the target's own: it is deployed already, or being deployed.
        if (!MlscaleError.hasCode(error, 'AlreadyExists')) throw error;
      }
      return 'progressing';
    }
    case 'moveTraffic': {
      if (action.judge) await judgeRolloutStep(step, action.judge);
      const rolloutProgress = action.rollout ? { ...progressOf(step), rollout: action.rollout } : undefined;
      await updateEndpoint(
        context,
        {
          name: endpoint,
          etag: observation.endpoint.etag,
          trafficSplit: action.split,
          ...(rolloutProgress ? { description: describeDeployment(record, rolloutProgress) } : {}),
        },
        rolloutProgress ? ['traffic_split', 'description'] : ['traffic_split'],
        signal,
      );
      return 'progressing';
    }
    case 'mutateResources':
      await mutateDeployedModel(
        context,
        endpoint,
        action.target.deployedModelId,
        action.target.resources,
        signal,
      );
      return 'progressing';
    case 'undeployModel':
      return cleanUp(step, () =>
        undeployModel(context, endpoint, action.deployedModelId, action.trafficSplit, signal),
      );
    case 'deleteModels':
      return cleanUp(step, async () => {
        for (const model of action.models) await startDeleteModel(context, model, signal);
      });
    case 'deleteEndpoint':
      await deleteEndpoint(context, endpoint, signal);
      return 'progressing';
  }
}

/** The model version a target deploys: the one mlscale uploaded, or the registry version it names. */
async function modelVersionOf(
  step: StepContext,
  target: Target,
): Promise<{ model: string; versionId?: string }> {
  const { source } = target;
  if (source.kind === 'registry') {
    const resolved = await resolveRegistryVersion(step.context, source.reference, target.field, step.signal);
    return { model: resolved.versionName, versionId: resolved.versionId };
  }
  const uploaded = step.observation.models.find((candidate) => candidate.name === source.modelName);
  return { model: `${source.modelName}@${uploaded?.versionId ?? '1'}` };
}

/** The record's progress so far, for a save that adds to it. */
function progressOf(step: StepContext): ChangeProgress {
  return step.observation.progress ?? freshProgress(step.record, newestVertexTime(step.observation));
}

/** Writes the change's progress beside the record (the record itself unchanged). */
async function saveProgress(step: StepContext, change: Partial<ChangeProgress>): Promise<void> {
  const progress = { ...progressOf(step), ...change };
  const { endpoint } = step.observation;
  await updateEndpoint(
    step.context,
    { name: endpoint.name!, etag: endpoint.etag, description: describeDeployment(step.record, progress) },
    ['description'],
    step.signal,
  );
}

/**
 * Writes the record, with the progress of a change just asked for (`progress`), or none (a convergence
 * or an abandoned change: nothing is in flight), over the endpoint as `endpoint` shows it (its etag):
 * if it changed since it was read, the write is refused (a retryable Conflict) and nothing is lost.
 */
export async function saveRecord(
  context: AdapterContext,
  endpoint: IEndpoint,
  record: DeploymentRecord,
  progress: ChangeProgress | undefined,
  signal: AbortSignal | undefined,
): Promise<IEndpoint> {
  return updateEndpoint(
    context,
    {
      name: endpoint.name!,
      etag: endpoint.etag,
      description: describeDeployment(record, progress),
      labels: endpointLabels(record.desired),
    },
    ['description', 'labels'],
    signal,
  );
}

/**
 * UploadModel of an artifact target under its own model id: the artifact staged in Cloud Storage, the
 * container given the environment's values (from this process's memory, or the serving container's own,
 * checked against their seals). A repeat of an upload another step started answers ALREADY_EXISTS: it
 * is under way.
 */
async function uploadModel(step: StepContext, target: Target): Promise<StepOutcome> {
  const { context, record, observation, secrets, signal } = step;
  if (target.source.kind !== 'artifact') return 'progressing';
  const desired = record.desired;
  const resolved = secrets.resolve(desired, containerLookup(observation, desired));
  if ('blocked' in resolved) return { blocked: resolved.blocked };
  const runnable = resolved.spec;
  const staged = await stageArtifact(
    target.source.reference.uri,
    `${target.field}.uri`,
    context.settings,
    async () => (await clientsOf(context)).storage,
    signal,
  );
  // Recorded with the version, so the signature gate reads what the endpoint serves, not the file now.
  const signature = await signatureOfArtifact(context, target.source.reference.uri, signal);
  try {
    await startUploadModel(
      context,
      {
        displayName: target.displayName(),
        artifactUri: staged.artifactUri,
        containerSpec: servingContainer(context, runnable, staged.fileName),
        versionDescription: describeVersion({
          sha256: staged.sha256 ?? '',
          sizeBytes: staged.sizeBytes ?? 0,
          uri: staged.fileName ? `${staged.artifactUri}${staged.fileName}` : staged.artifactUri,
          ...(signature ? { signature } : {}),
        }),
        labels: {
          ...tagLabels(desired.tags),
          [labelKeys.managed]: 'true',
          [labelKeys.deployment]: desired.name,
        },
        ...(desired.encryption ? { encryptionSpec: { kmsKeyName: desired.encryption.keyId } } : {}),
      },
      { modelId: target.source.modelId },
      signal,
    );
  } catch (error) {
    if (!MlscaleError.hasCode(error, 'AlreadyExists')) throw error;
  }
  return 'progressing';
}

/**
 * Judges a rollout step that has run its time from Cloud Monitoring: past `maxErrorRate` (with at least
 * `minRequests`) the rollout is refused, and the reconcile step puts the previous version back.
 */
async function judgeRolloutStep(
  step: StepContext,
  judge: { since: Date; step: number; deployedModelIds: string[] },
): Promise<void> {
  const rollout = step.record.desired.rollout;
  if (!rollout || judge.deployedModelIds.length === 0) return;
  const health = await deployedModelHealth(
    step.context,
    step.observation.endpoint.name!,
    judge.deployedModelIds,
    judge.since,
    step.signal,
  );
  const rate = health.errors / Math.max(1, health.requests);
  if (health.requests >= rollout.minRequests && rate > rollout.maxErrorRate) {
    throw new MlscaleError({
      code: 'BackendFailure',
      provider,
      retryable: false,
      message: `Update of '${step.record.desired.name}' rolled back at ${judge.step}% traffic: the new version failed ${health.errors} of ${health.requests} requests (more than ${rollout.maxErrorRate * 100}%). The previous split is restored.`,
    });
  }
}

/**
 * Removing what a change replaced. A refusal here does not undo the change (the new version serves):
 * while the change converges it is noted and the step retried; once converged (upkeep) it is left for a
 * later step. Other failures (throttling, a 5xx) are thrown for the client to retry.
 */
async function cleanUp(step: StepContext, run: () => Promise<unknown>): Promise<StepOutcome> {
  const phase = recordPhase(step.record);
  try {
    await run();
    return 'progressing';
  } catch (error) {
    const refused =
      MlscaleError.isInstance(error) &&
      !error.retryable &&
      error.code !== 'Aborted' &&
      error.code !== 'Timeout' &&
      phase !== 'deleting';
    if (!refused) throw error;
    if (phase === 'converged') return 'converged';
    const reason = step.secrets.mask(redactText(error.message)).slice(0, 300);
    if (step.observation.progress?.cleanupRefused !== reason)
      await saveProgress(step, { cleanupRefused: reason });
    return 'progressing';
  }
}
