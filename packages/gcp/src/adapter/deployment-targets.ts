import type { protos } from '@google-cloud/aiplatform';
import { type DeploymentSpec, type ModelReference, specHash } from '@mlscale/core';
import type { AdapterContext } from './context.js';
import { dedicatedResources, integerPercentages } from './deployment-requests.js';
import type { IDeployedModel } from './endpoint-calls.js';
import { type RegistryModelReference, servingImage } from './model-resolver.js';
import { modelName } from './names.js';

type IDedicatedResources = protos.google.cloud.aiplatform.v1.IDedicatedResources;

/** An artifact the adapter uploads as a Vertex model of its own, under an id derived from what it runs. */
export interface ArtifactSource {
  kind: 'artifact';
  reference: Extract<ModelReference, { uri: string }>;
  /** The Vertex model id (`<deployment>-<hash>`). */
  modelId: string;
  /** `projects/P/locations/L/models/<modelId>`. */
  modelName: string;
}

/** A version of a model in the Vertex Model Registry, deployed as it is. */
export interface RegistrySource {
  kind: 'registry';
  reference: RegistryModelReference;
}

/**
 * One deployed model a spec asks for. Its ids come from what it runs (the model, its container, its
 * machines), never from the clock: a step repeated after a crash, in any process, names the same model
 * and the same deployed model, so it finds what it made before instead of making it twice.
 */
export interface Target {
  source: ArtifactSource | RegistrySource;
  /** The spec's field, for messages (`model`, `traffic[1].model`). */
  field: string;
  /** Percent of traffic, a whole number (the shares of all targets add up to 100). */
  weight: number;
  /** DeployedModel.id: 10 digits. */
  deployedModelId: string;
  /**
   * DeployedModel.display_name: `<deployment>-<key>` for an artifact, `<model>@<version>-<key>` for a
   * registry version (its version known once it is resolved, when it is deployed).
   */
  displayName: (registryVersionId?: string) => string;
  /** The machines and replica counts the spec asks for. */
  resources: IDedicatedResources;
}

/** The deployed models `spec` (sealed, as recorded) asks for, one per distinct model and machine. */
export function targetsOf(context: AdapterContext, spec: DeploymentSpec): Target[] {
  const entries = spec.traffic ?? [{ model: spec.model, weight: 100 }];
  const weights = integerPercentages(entries.map((entry) => entry.weight));
  const resources = dedicatedResources(spec, context.settings);
  const byId = new Map<string, Target>();
  for (const [index, entry] of entries.entries()) {
    const field = spec.traffic ? `traffic[${index}].model` : 'model';
    const source = sourceOf(context, spec, entry.model);
    const identity = source.kind === 'artifact' ? source.modelId : registryKey(source.reference);
    const key = specHash({
      model: identity,
      machineSpec: resources.machineSpec,
      spot: resources.spot ?? false,
    });
    const deployedModelId = tenDigits(key);
    const existing = byId.get(deployedModelId);
    if (existing) {
      existing.weight += weights[index]!;
      continue;
    }
    byId.set(deployedModelId, {
      source,
      field,
      weight: weights[index]!,
      deployedModelId,
      displayName: (registryVersionId) =>
        source.kind === 'artifact'
          ? `${spec.name}-${key.slice(0, 8)}`
          : `${source.reference.name}@${registryVersionId ?? source.reference.version}-${key.slice(0, 8)}`,
      resources,
    });
  }
  return [...byId.values()];
}

/** The traffic split the targets ask for, by deployed-model id (only positive shares). */
export function finalSplit(targets: readonly Target[]): Record<string, number> {
  const split: Record<string, number> = {};
  for (const target of targets) if (target.weight > 0) split[target.deployedModelId] = target.weight;
  return split;
}

/**
 * The Vertex model id of an artifact as a deployment runs it: from the deployment's name, the artifact's
 * location and everything that goes into its container (the environment as recorded, so a changed
 * secret is a new model, without the id revealing anything), the serving image and the key.
 */
function sourceOf(
  context: AdapterContext,
  spec: DeploymentSpec,
  reference: ModelReference,
): Target['source'] {
  if ('name' in reference) return { kind: 'registry', reference };
  const { servingContainer: container } = context.settings;
  const hash = specHash({
    deployment: spec.name,
    uri: reference.uri,
    format: reference.format,
    environment: spec.environment ?? {},
    batching: spec.batching ?? null,
    image: servingImage(context, spec),
    port: container.port,
    predictRoute: container.predictRoute ?? null,
    healthRoute: container.healthRoute ?? null,
    encryption: spec.encryption?.keyId ?? null,
  });
  // A letter first, `[a-z0-9-]`, at most 63: what UploadModel's model_id accepts (names are ≤ 32).
  const modelId = `${spec.name}-${hash.slice(0, 16)}`;
  return { kind: 'artifact', reference, modelId, modelName: modelName(context.settings, modelId) };
}

function registryKey(reference: RegistryModelReference): string {
  return `registry:${reference.name}@${reference.version}`;
}

/** A DeployedModel.id (1 to 10 digits) from a hash: 10 digits, no leading zero. */
function tenDigits(hash: string): string {
  return String(1_000_000_000 + (Number.parseInt(hash.slice(0, 12), 16) % 9_000_000_000));
}

/** Whether a deployed model has these replica counts and autoscaling specs. */
export function sameResources(deployed: IDeployedModel, resources: IDedicatedResources): boolean {
  const current = deployed.dedicatedResources;
  const specs = (items: IDedicatedResources['autoscalingMetricSpecs']) =>
    JSON.stringify((items ?? []).map((item) => [item.metricName, Number(item.target)]));
  return (
    Number(current?.minReplicaCount ?? 0) === Number(resources.minReplicaCount ?? 0) &&
    Number(current?.maxReplicaCount ?? 0) === Number(resources.maxReplicaCount ?? 0) &&
    specs(current?.autoscalingMetricSpecs) === specs(resources.autoscalingMetricSpecs)
  );
}

/**
 * Whether Vertex autoscales a deployed model: it has metric specs, or room between its minimum and
 * maximum (Vertex then scales on CPU).
 */
export function autoscalingInForce(deployed: IDeployedModel | undefined): boolean {
  const resources = deployed?.dedicatedResources;
  if (!resources) return false;
  return (
    (resources.autoscalingMetricSpecs?.length ?? 0) > 0 ||
    Number(resources.maxReplicaCount ?? 0) > Number(resources.minReplicaCount ?? 0)
  );
}
