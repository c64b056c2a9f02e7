/**
 * Names of the SageMaker resources behind a deployment, derived from its name and its spec's hash: a
 * repeated deploy of the same spec finds the same names (and adopts what an interrupted run created)
 * instead of failing on "already exists" or leaving orphans.
 */
export interface DeploymentResourceNames {
  endpoint: string;
  endpointConfig: string;
  /** One model per production variant, in variant order. */
  models: string[];
  /** The production variants' names. */
  variants: string[];
}

/** Characters of the spec hash in resource names: enough to make collisions negligible per deployment. */
const hashLength = 10;

export function deploymentResourceNames(
  name: string,
  specHash: string,
  variantCount: number,
): DeploymentResourceNames {
  const short = specHash.slice(0, hashLength);
  return {
    endpoint: name,
    endpointConfig: `${name}-${short}`,
    models: Array.from({ length: variantCount }, (_, index) => `${name}-${short}-m${index}`),
    // SageMaker's Python SDK names a single variant AllTraffic; a split gets one variant per model.
    variants:
      variantCount === 1
        ? ['AllTraffic']
        : Array.from({ length: variantCount }, (_, index) => `variant-${index + 1}`),
  };
}

/** The Application Auto Scaling resource id of a variant. */
export function variantResourceId(endpoint: string, variant: string): string {
  return `endpoint/${endpoint}/variant/${variant}`;
}

/** The CloudWatch alarm that rolls a canary back. */
export function rollbackAlarmName(endpoint: string): string {
  return `mlscale-rollback-${endpoint}`;
}

/** CloudWatch alarms mlscale creates for alert rules. */
export const alertAlarmPrefix = 'mlscale-alert-';
