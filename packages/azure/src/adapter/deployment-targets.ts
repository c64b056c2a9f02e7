import { createHash } from 'node:crypto';
import type { OnlineDeployment } from '@azure/arm-machinelearning';
import { canonicalJson, type DeploymentSpec, MlscaleError, type ModelReference } from '@mlscale/core';
import type { AdapterContext } from './adapter-context.js';
import { type EndpointSnapshot, provisioningStateOf } from './deployment-observation.js';
import { assertAzureReadable, hashArtifact, localPathOf } from './model-artifacts.js';
import { modelAssetId, registerModel } from './model-operations.js';
import { deploymentNameFor, tagNames } from './resource-names.js';
import { machineLearningItems } from './sdk-pages.js';
import { isNotFound, provider } from './to-mlscale-error.js';

/** One model of a spec, with its share of traffic, and the Azure deployment serving it when one does. */
export interface PlannedTarget {
  model: ModelReference;
  weight: number;
  /** `modelReferenceKey(model)`: what the deployment serving it is tagged with. */
  referenceKey: string;
  /** Where in the spec it is (`model`, `traffic[1].model`), the first place when it is there twice. */
  field: string;
  /** The deployment serving it: known from the reference alone, or found by its tag. */
  deploymentName?: string;
}

/** A target with its Azure deployment and model version known. */
export interface DeploymentTarget extends PlannedTarget {
  deploymentName: string;
  modelName: string;
  version: string;
  /** The model version's ARM id. */
  assetId: string;
}

/** A short, stable key for a model reference, so the deployment serving it can be found again. */
export function modelReferenceKey(model: ModelReference): string {
  return createHash('sha256').update(canonicalJson(model)).digest('hex').slice(0, 16);
}

/** A registered version is known from the reference itself; an artifact only once it is registered. */
function pinnedVersion(model: ModelReference): { modelName: string; version: string } | undefined {
  return 'name' in model && model.version !== 'latest'
    ? { modelName: model.name, version: String(model.version) }
    : undefined;
}

/**
 * The models a spec serves and their weights (the same model twice counts once), each with the
 * deployment that serves it where that is known without registering anything: read, not written.
 */
export function plannedTargets(spec: DeploymentSpec, snapshot: EndpointSnapshot): PlannedTarget[] {
  const entries = spec.traffic ?? [{ model: spec.model, weight: 100 }];
  const targets: PlannedTarget[] = [];
  for (const [index, entry] of entries.entries()) {
    const referenceKey = modelReferenceKey(entry.model);
    const same = targets.find((target) => target.referenceKey === referenceKey);
    if (same) {
      same.weight += entry.weight;
      continue;
    }
    const pinned = pinnedVersion(entry.model);
    const tagged = snapshot.deployments.find(
      (deployment) =>
        deployment.tags?.[tagNames.modelReference] === referenceKey &&
        provisioningStateOf(deployment) !== 'Deleting',
    );
    const deploymentName = pinned ? deploymentNameFor(pinned.modelName, pinned.version) : tagged?.name;
    targets.push({
      model: entry.model,
      weight: entry.weight,
      referenceKey,
      field: spec.traffic ? `traffic[${index}].model` : 'model',
      ...(deploymentName ? { deploymentName } : {}),
    });
  }
  return targets;
}

/** The model name and version a deployment mlscale made serves (its `mlscale-model` tag). */
function servedVersion(deployment: OnlineDeployment): { modelName: string; version: string } | undefined {
  const [modelName, version] = (deployment.tags?.[tagNames.model] ?? '').split(':');
  return modelName && version ? { modelName, version } : undefined;
}

/** A planned target's model version, when it is known without registering anything. */
export function knownTarget(
  context: AdapterContext,
  planned: PlannedTarget,
  snapshot: EndpointSnapshot,
): DeploymentTarget | undefined {
  const existing = planned.deploymentName
    ? snapshot.deployments.find((deployment) => deployment.name === planned.deploymentName)
    : undefined;
  const known = pinnedVersion(planned.model) ?? (existing ? servedVersion(existing) : undefined);
  return known ? toTarget(context, planned, known) : undefined;
}

function toTarget(
  context: AdapterContext,
  planned: PlannedTarget,
  { modelName, version }: { modelName: string; version: string },
): DeploymentTarget {
  return {
    ...planned,
    deploymentName: deploymentNameFor(modelName, version),
    modelName,
    version,
    assetId: modelAssetId(context, modelName, version),
  };
}

/** A spec's model references with the values behind their sealed parts, or what blocks reading them. */
export type ModelReferenceValues = () => Promise<{ spec: DeploymentSpec } | { blocked: string }>;

/**
 * The spec's targets with their model versions: from the reference, from the deployment already
 * serving it (which keeps the version `latest` resolved to on its `mlscale-model` tag), or by resolving
 * it: `latest` to the version registered now, an artifact by registering it (local files uploaded,
 * content-addressed) under the endpoint's name, tagged with it so deletion finds it. Creates models
 * before anything uses them. `spec` is the recorded (sealed) spec, which the deployments' tags are keyed
 * on; an artifact is registered from `values` (its URL with a SAS signature, say), asked for only then.
 */
export async function resolveTargets(
  context: AdapterContext,
  spec: DeploymentSpec,
  snapshot: EndpointSnapshot,
  signal: AbortSignal | undefined,
  values: ModelReferenceValues,
): Promise<DeploymentTarget[] | { blocked: string }> {
  const resolved: DeploymentTarget[] = [];
  let revealed: Awaited<ReturnType<ModelReferenceValues>> | undefined;
  for (const planned of plannedTargets(spec, snapshot)) {
    let target = knownTarget(context, planned, snapshot);
    if (!target) {
      revealed ??= await values();
      if ('blocked' in revealed) return revealed;
      const model = modelAt(revealed.spec, planned.field);
      target = toTarget(
        context,
        planned,
        await resolveModel(context, spec.name, model, planned.field, signal),
      );
    }
    const same = resolved.find((item) => item.deploymentName === target.deploymentName);
    if (same) same.weight += target.weight;
    else resolved.push(target);
  }
  return resolved;
}

/** The model reference at `field` (`model`, `traffic[1].model`) of a spec. */
function modelAt(spec: DeploymentSpec, field: string): ModelReference {
  const index = /^traffic\[(\d+)\]\.model$/.exec(field)?.[1];
  const model = index === undefined ? spec.model : spec.traffic?.[Number(index)]?.model;
  if (!model) throw new Error(`the spec has no model reference at ${field}`);
  return model;
}

/**
 * Checks that the registered models a spec names exist (`latest`: that some version is registered),
 * before anything is recorded. The spec keeps `latest` as asked: which version it is gets decided when
 * its deployment is created, and kept on that deployment's tags.
 */
export async function assertModelsRegistered(
  context: AdapterContext,
  spec: DeploymentSpec,
  signal: AbortSignal | undefined,
): Promise<void> {
  const { settings } = context;
  const check = async (model: ModelReference, field: string): Promise<void> => {
    if (!('name' in model)) return;
    if (model.version !== 'latest') {
      const found = await context.find(
        `Reading model '${model.name}' version ${model.version}`,
        (clients) =>
          clients.machineLearning.modelVersions.get(
            settings.resourceGroup,
            settings.workspace,
            model.name,
            String(model.version),
            { abortSignal: signal },
          ),
        signal,
      );
      if (!found) throw notRegistered(`${model.name} version ${model.version}`, field);
      return;
    }
    await latestVersion(context, model.name, field, signal);
  };
  await check(spec.model, 'model');
  for (const [index, entry] of (spec.traffic ?? []).entries())
    await check(entry.model, `traffic[${index}].model`);
}

/** The latest registered version of a model; `NotFound` when none is. */
async function latestVersion(
  context: AdapterContext,
  name: string,
  field: string,
  signal: AbortSignal | undefined,
): Promise<string> {
  const { settings } = context;
  const container = await context.find(
    `Reading model '${name}'`,
    (clients) =>
      clients.machineLearning.modelContainers.get(settings.resourceGroup, settings.workspace, name, {
        abortSignal: signal,
      }),
    signal,
  );
  const latest = Number(container?.properties.latestVersion);
  if (!Number.isInteger(latest) || latest < 1) throw notRegistered(name, field);
  return String(latest);
}

/** The model versions registered under an endpoint's name, with what they were registered from. */
export function endpointModelVersions(
  context: AdapterContext,
  endpointName: string,
  signal: AbortSignal | undefined,
): Promise<{ version: string; modelUri: string; sha256: string | undefined }[]> {
  const { settings } = context;
  return context.call(
    `Listing versions of model '${endpointName}'`,
    async (clients) => {
      const found: { version: string; modelUri: string; sha256: string | undefined }[] = [];
      try {
        for await (const version of machineLearningItems(
          clients,
          clients.machineLearning.modelVersions.list(
            settings.resourceGroup,
            settings.workspace,
            endpointName,
            {
              abortSignal: signal,
            },
          ),
        )) {
          if (!version.name) continue;
          found.push({
            version: version.name,
            modelUri: version.properties.modelUri ?? '',
            sha256: version.properties.tags?.[tagNames.sha256] ?? undefined,
          });
        }
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      return found;
    },
    signal,
  );
}

/** A model reference (with its values) as a model version: `latest` read now, an artifact registered. */
async function resolveModel(
  context: AdapterContext,
  endpointName: string,
  model: ModelReference,
  field: string,
  signal: AbortSignal | undefined,
): Promise<{ modelName: string; version: string }> {
  if ('name' in model) {
    // Only `latest` gets here, before the deployment that keeps what it resolved to exists.
    return { modelName: model.name, version: await latestVersion(context, model.name, field, signal) };
  }
  // An artifact: registered under the endpoint's name, once per distinct content or URI.
  assertAzureReadable(model.uri, `${field}.uri`);
  const localPath = localPathOf(model.uri);
  const sha256 = localPath === undefined ? undefined : (await hashArtifact(localPath, `${field}.uri`)).sha256;
  const found = (await endpointModelVersions(context, endpointName, signal)).find((version) =>
    sha256 !== undefined ? version.sha256 === sha256 : version.modelUri === model.uri,
  );
  if (found) return { modelName: endpointName, version: found.version };
  // Azure reads the artifact itself, so the version's modelUri is the URL with its SAS signature; the
  // version's tags, the deployment's and the record name it only by the endpoint and a hash.
  const registered = await registerModel(
    context,
    { name: endpointName, path: model.uri, format: model.format, metadata: {}, lineage: {} },
    signal,
    { [tagNames.endpoint]: endpointName },
  );
  return { modelName: endpointName, version: String(registered.version) };
}

function notRegistered(what: string, field: string): MlscaleError {
  return new MlscaleError({
    code: 'NotFound',
    provider,
    message: `Model ${what} is not registered in the workspace (${field}). Register it with models.register first.`,
  });
}
