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
  for (const entry of entries) {
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

/**
 * The spec's targets with their model versions: from the reference, from the deployment already
 * serving it, or by registering the artifact (local files uploaded, content-addressed) under the
 * endpoint's name, tagged with it so deletion finds it. Creates models before anything uses them.
 */
export async function resolveTargets(
  context: AdapterContext,
  spec: DeploymentSpec,
  snapshot: EndpointSnapshot,
  signal: AbortSignal | undefined,
): Promise<DeploymentTarget[]> {
  const resolved: DeploymentTarget[] = [];
  for (const [index, planned] of plannedTargets(spec, snapshot).entries()) {
    const field = spec.traffic ? `traffic[${index}].model` : 'model';
    const target =
      knownTarget(context, planned, snapshot) ??
      toTarget(context, planned, await resolveModel(context, spec.name, planned.model, field, signal));
    const same = resolved.find((item) => item.deploymentName === target.deploymentName);
    if (same) same.weight += target.weight;
    else resolved.push(target);
  }
  return resolved;
}

/**
 * `latest` in a spec's model references replaced by the version registered now, so the recorded spec
 * names what is deployed and a later reconcile does not roll out a version registered meanwhile.
 */
export async function pinModelVersions(
  context: AdapterContext,
  spec: DeploymentSpec,
  signal: AbortSignal | undefined,
): Promise<DeploymentSpec> {
  const { settings } = context;
  const pin = async (model: ModelReference, field: string): Promise<ModelReference> => {
    if (!('name' in model)) return model;
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
      return model;
    }
    const container = await context.find(
      `Reading model '${model.name}'`,
      (clients) =>
        clients.machineLearning.modelContainers.get(settings.resourceGroup, settings.workspace, model.name, {
          abortSignal: signal,
        }),
      signal,
    );
    const latest = Number(container?.properties.latestVersion);
    if (!Number.isInteger(latest) || latest < 1) throw notRegistered(model.name, field);
    return { ...model, version: latest };
  };
  const model = await pin(spec.model, 'model');
  const traffic = spec.traffic
    ? await Promise.all(
        spec.traffic.map(async (entry, index) => ({
          ...entry,
          model: await pin(entry.model, `traffic[${index}].model`),
        })),
      )
    : undefined;
  return { ...spec, model, ...(traffic ? { traffic } : {}) };
}

async function resolveModel(
  context: AdapterContext,
  endpointName: string,
  model: ModelReference,
  field: string,
  signal: AbortSignal | undefined,
): Promise<{ modelName: string; version: string }> {
  const { settings } = context;
  if ('name' in model) {
    // Only an unpinned `latest` gets here (records written before pinning).
    const container = await context.find(
      `Reading model '${model.name}'`,
      (clients) =>
        clients.machineLearning.modelContainers.get(settings.resourceGroup, settings.workspace, model.name, {
          abortSignal: signal,
        }),
      signal,
    );
    const latest = container?.properties.latestVersion;
    if (!latest) throw notRegistered(model.name, field);
    return { modelName: model.name, version: latest };
  }
  // An artifact: registered under the endpoint's name, once per distinct content or URI.
  assertAzureReadable(model.uri, `${field}.uri`);
  const localPath = localPathOf(model.uri);
  const sha256 = localPath === undefined ? undefined : (await hashArtifact(localPath, `${field}.uri`)).sha256;
  const found = await context.call(
    `Listing versions of model '${endpointName}'`,
    async (clients) => {
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
          const tags = version.properties.tags ?? {};
          const sameContent = sha256 !== undefined && tags[tagNames.sha256] === sha256;
          const sameUri = sha256 === undefined && version.properties.modelUri === model.uri;
          if ((sameContent || sameUri) && version.name) return version.name;
        }
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      return undefined;
    },
    signal,
  );
  if (found) return { modelName: endpointName, version: found };
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
