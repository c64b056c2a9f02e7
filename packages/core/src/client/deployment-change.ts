import type { DeploymentSpecInput } from '../spec/deployment.js';

/** The fields of a deployment spec that a change may set, other than its name. */
type ChangeableField = Exclude<keyof DeploymentSpecInput, 'name'>;

/**
 * A change to a deployment: its name and the fields to change. Each field given replaces that field
 * whole (no deep merge: `autoscaling` is the whole new policy); `null` removes an optional field (it
 * goes back to its default); a field left out keeps its recorded value. `model` and `traffic` together
 * say what serves, so a new `model` without `traffic` also ends a recorded traffic split: all traffic
 * goes to that model.
 *
 * ```ts
 * await mlscale.update({ name: 'digits', model: { uri: './model-v2.onnx' }, rollout: { steps: [10, 50, 100] } });
 * // autoscaling, replicas, environment, ... stay as they were
 * await mlscale.update({ name: 'digits', autoscaling: null, replicas: 2 }); // a fixed count instead
 * ```
 */
export type DeploymentChangeInput = { name: string } & {
  [Field in ChangeableField]?: Field extends 'model'
    ? DeploymentSpecInput[Field]
    : DeploymentSpecInput[Field] | null;
};

/**
 * The recorded spec with `change` applied (see `DeploymentChangeInput`). A new autoscaling policy without
 * a replica count keeps the recorded count, moved inside the policy's bounds; a new model without a
 * traffic split ends the recorded one.
 */
export function applyDeploymentChange(
  recorded: Record<string, unknown>,
  change: Record<string, unknown>,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...recorded };
  for (const [field, value] of Object.entries(change)) {
    if (field === 'name' || value === undefined) continue;
    if (value === null) delete merged[field];
    else merged[field] = value;
  }
  // A new model without a split of its own serves everything: a recorded split would override it.
  if (change.model !== undefined && change.traffic === undefined) delete merged.traffic;
  const policy = change.autoscaling as { minReplicas?: unknown; maxReplicas?: unknown } | null | undefined;
  if (policy && change.replicas === undefined && typeof merged.replicas === 'number') {
    const minimum = typeof policy.minReplicas === 'number' ? policy.minReplicas : merged.replicas;
    const maximum = typeof policy.maxReplicas === 'number' ? policy.maxReplicas : merged.replicas;
    merged.replicas = Math.min(maximum, Math.max(minimum, merged.replicas));
  }
  return merged;
}

/**
 * A whole spec as a change that replaces the recorded one: every changeable field the spec leaves out is
 * removed. What `update(spec, { replace: true })` does, and what `mlscale apply` sends.
 */
export function replacementChange(spec: DeploymentSpecInput): DeploymentChangeInput {
  const removed = Object.fromEntries(changeableFields.map((field) => [field, null]));
  return { ...removed, ...spec } as DeploymentChangeInput;
}

/** Every optional top-level field of a deployment spec (the compiler checks the list is complete). */
const changeable: Record<Exclude<ChangeableField, 'model'>, true> = {
  instance: true,
  replicas: true,
  autoscaling: true,
  serverless: true,
  traffic: true,
  rollout: true,
  batching: true,
  environment: true,
  network: true,
  encryption: true,
  tags: true,
  providerOptions: true,
};
const changeableFields = Object.keys(changeable);
