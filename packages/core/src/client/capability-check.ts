import type { BackendCapabilityV1, BackendV1 } from '../backend/v1/index.js';
import { MlscaleError } from '../errors.js';
import { specRefusal } from '../provider-utils/spec-refusal.js';
import type { AutoscalingPolicy, DeploymentSpec } from '../spec/deployment.js';
import type { TrainingJobSpec } from '../spec/training.js';

/** A capability a spec needs, and the field that needs it. */
interface Need {
  capability: BackendCapabilityV1;
  field: string;
}

/** What a deployment spec asks of a backend. */
export function deploymentNeeds(spec: DeploymentSpec): Need[] {
  const needs: Need[] = [];
  if (spec.serverless) needs.push({ capability: 'serverless', field: 'serverless' });
  if (spec.autoscaling) needs.push(...autoscalingNeeds(spec.autoscaling));
  if (spec.instance?.accelerator) needs.push({ capability: 'gpu', field: 'instance.accelerator' });
  if (spec.traffic && spec.traffic.length > 1) needs.push({ capability: 'trafficSplit', field: 'traffic' });
  if (spec.network?.private || spec.network?.subnets?.length || spec.network?.securityGroups?.length) {
    needs.push({ capability: 'privateNetworking', field: 'network' });
  }
  if (spec.encryption) needs.push({ capability: 'customerManagedKeys', field: 'encryption' });
  return needs;
}

/** What an autoscaling policy asks of a backend. */
export function autoscalingNeeds(policy: AutoscalingPolicy): Need[] {
  const needs: Need[] = [{ capability: 'autoscaling', field: 'autoscaling' }];
  if (policy.minReplicas === 0) needs.push({ capability: 'scaleToZero', field: 'autoscaling.minReplicas' });
  return needs;
}

/** What a training job spec asks of a backend. */
export function trainingNeeds(spec: TrainingJobSpec): Need[] {
  const needs: Need[] = [{ capability: 'training', field: '(training job)' }];
  if (spec.spot) needs.push({ capability: 'spot', field: 'spot' });
  const processes = (spec.distribution?.processesPerNode ?? 1) * (spec.distribution?.nodes ?? 1);
  if (processes > 1) needs.push({ capability: 'distributed', field: 'distribution' });
  if (spec.resources.instanceCount > 1)
    needs.push({ capability: 'distributed', field: 'resources.instanceCount' });
  if (spec.resources.gpus > 0) needs.push({ capability: 'gpu', field: 'resources.gpus' });
  return needs;
}

/** Throws `Unsupported` naming every capability the backend lacks. */
export function assertCapabilities(backend: BackendV1, needs: Need[], what: string): void {
  const missing = needs.filter((need) => !backend.capabilities[need.capability]);
  if (missing.length === 0) return;
  const list = missing.map((need) => `${need.capability} (asked by ${need.field})`).join(', ');
  throw new MlscaleError({
    code: 'Unsupported',
    provider: backend.provider,
    message: `The ${backend.provider} backend cannot run this ${what}: it lacks ${list}. Remove the field or choose a backend that has it.`,
  });
}

/** The backend's operation group, or `Unsupported` when it has none. */
export function requireGroup<Group>(
  backend: BackendV1,
  group: Group | undefined,
  capability: BackendCapabilityV1,
): Group {
  if (group && backend.capabilities[capability]) return group;
  throw new MlscaleError({
    code: 'Unsupported',
    provider: backend.provider,
    message: `The ${backend.provider} backend does not support ${capability}.`,
  });
}

/**
 * Throws `InvalidSpec` with every issue the backend's own limits find in `spec` (its `validateSpec`),
 * before any backend call: what the platform cannot express is refused here, not sent to fail there.
 */
export function assertBackendAccepts(backend: BackendV1, spec: DeploymentSpec): void {
  const issues = backend.deployments.validateSpec?.(spec) ?? [];
  if (issues.length > 0) throw specRefusal(backend.provider, spec.name, issues);
}
