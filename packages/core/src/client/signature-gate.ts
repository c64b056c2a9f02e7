import type { BackendV1 } from '../backend/v1/index.js';
import { MlscaleError, type SpecIssue } from '../errors.js';
import { compareSignatures } from '../signature/compare-signatures.js';
import type { DeploymentSpec, ModelReference } from '../spec/index.js';
import { canonicalJson } from '../spec-hash.js';
import type { BackendCall } from './backend-call.js';

/** The models a spec serves, with the field each comes from. */
function servedModels(spec: DeploymentSpec): { model: ModelReference; path: string }[] {
  return spec.traffic
    ? spec.traffic.map((entry, index) => ({ model: entry.model, path: `traffic[${index}].model` }))
    : [{ model: spec.model, path: 'model' }];
}

/**
 * The signature gate: before an update is sent, each model it would newly serve is compared with what
 * the deployment serves now, and an update that would break callers (see `compareSignatures`) is refused
 * with `InvalidSpec` naming each difference. With `rollout.allowSignatureChange` a different signature
 * passes, but only switched at once (`steps: [100]`, no traffic split), so callers never get answers of
 * two shapes. What cannot be checked (the backend cannot tell a signature) passes, with a warning.
 */
export async function checkSignatures(options: {
  backend: BackendV1;
  call: BackendCall;
  current: DeploymentSpec;
  next: DeploymentSpec;
  signal: AbortSignal | undefined;
  warn: (message: string) => void;
}): Promise<void> {
  const { backend, call, current, next, signal } = options;
  const resolve = backend.deployments.doResolveSignature?.bind(backend.deployments);
  const serving = new Set(servedModels(current).map(({ model }) => canonicalJson(model)));
  const added = servedModels(next).filter(({ model }) => !serving.has(canonicalJson(model)));
  if (added.length === 0) return;
  if (!resolve) {
    options.warn(
      `the ${backend.provider} backend cannot read model signatures: the new model was not checked against the serving one`,
    );
    return;
  }
  const servingSignature = await call('resolveSignature', next.name, signal, (callOptions) =>
    resolve({ deployment: next.name }, callOptions),
  );
  if (!servingSignature) {
    options.warn(
      `the signature of what '${next.name}' serves is unknown: the new model was not checked against it`,
    );
    return;
  }
  const issues: SpecIssue[] = [];
  for (const { model, path } of added) {
    const signature = await call('resolveSignature', next.name, signal, (callOptions) =>
      resolve({ model }, callOptions),
    );
    if (!signature) {
      options.warn(
        `the signature of ${path} is unknown: it was not checked against what '${next.name}' serves`,
      );
      continue;
    }
    for (const difference of compareSignatures(servingSignature, signature)) {
      issues.push({ path, message: `${difference.tensor} ${difference.message}` });
    }
  }
  if (issues.length === 0) return;
  const list = issues.map((issue) => `  - ${issue.path}: ${issue.message}`).join('\n');
  if (!next.rollout?.allowSignatureChange) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      provider: backend.provider,
      message: `Update of '${next.name}' refused: the new model would break callers of the one serving:\n${list}\nIf callers are ready for it, set rollout.allowSignatureChange: true (with rollout.steps: [100]).`,
      issues,
    });
  }
  const steps = next.rollout.steps;
  if (next.traffic || steps.length !== 1 || steps[0] !== 100) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      provider: backend.provider,
      message: `Update of '${next.name}' refused: it changes the model's signature, so it cannot roll out in steps or split traffic (callers would get answers of two shapes); use rollout.steps: [100] and no traffic split:\n${list}`,
      issues: [
        {
          path: next.traffic ? 'traffic' : 'rollout.steps',
          message: 'expected all traffic switched at once for a signature change',
        },
        ...issues,
      ],
    });
  }
}
