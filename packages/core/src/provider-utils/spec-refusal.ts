import { MlscaleError, type SpecIssue } from '../errors.js';
import type { DeploymentSpec } from '../spec/deployment.js';

/**
 * The `InvalidSpec` for a deployment spec a backend's platform cannot run, listing each issue: what the
 * client says when `validateSpec` finds issues, and what an adapter's doCreate and doUpdate throw for
 * the same issues when called without the client.
 */
export function specRefusal(provider: string, name: string, issues: readonly SpecIssue[]): MlscaleError {
  const list = issues.map((issue) => `  - ${issue.path}: ${issue.message}`).join('\n');
  return new MlscaleError({
    code: 'InvalidSpec',
    provider,
    message: `Deployment '${name}' cannot run on the ${provider} backend as specified:\n${list}`,
    issues: [...issues],
  });
}

/**
 * Rollout steps and traffic weights that are not whole percentages, for platforms whose traffic maps
 * take integers (Azure ML's endpoint traffic, Vertex AI's traffic_split): each is refused, naming the
 * field, the platform's rule (`rule`) and the whole numbers nearby, rather than rounded behind the
 * caller's back.
 */
export function fractionalTrafficIssues(spec: DeploymentSpec, rule: string): SpecIssue[] {
  const issues: SpecIssue[] = [];
  for (const [index, step] of (spec.rollout?.steps ?? []).entries()) {
    if (Number.isInteger(step)) continue;
    issues.push({
      path: `rollout.steps[${index}]`,
      message: `expected a whole percentage, got ${step}: ${rule}; use ${Math.floor(step)} or ${Math.ceil(step)}`,
    });
  }
  for (const [index, entry] of (spec.traffic ?? []).entries()) {
    if (Number.isInteger(entry.weight)) continue;
    issues.push({
      path: `traffic[${index}].weight`,
      message: `expected a whole percentage, got ${entry.weight}: ${rule}; give whole weights that add up to 100`,
    });
  }
  return issues;
}
