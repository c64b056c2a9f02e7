/**
 * Names of the SageMaker resources behind a deployment. The endpoint is the deployment's name; an
 * endpoint config and its models are named from the deployment and the hash of the fleet they run
 * (`fleetHash`), so any process can compute, from a recorded spec alone, which config serves it, a
 * repeated create finds (and adopts) what an interrupted run made, and everything is findable by name.
 */
export interface DeploymentResourceNames {
  endpoint: string;
  endpointConfig: string;
  /** One model per production variant, in variant order. */
  models: string[];
  /** The production variants' names: the same for every fleet with as many variants. */
  variants: string[];
}

/** Characters of the fleet hash in resource names: enough to make collisions negligible per deployment. */
const hashLength = 10;

export function deploymentResourceNames(
  name: string,
  fleetHash: string,
  variantCount: number,
): DeploymentResourceNames {
  const endpointConfig = `${name}-${fleetHash.slice(0, hashLength)}`;
  return {
    endpoint: name,
    endpointConfig,
    models: Array.from({ length: variantCount }, (_, index) => modelName(endpointConfig, index)),
    variants: variantNames(variantCount),
  };
}

/** SageMaker's Python SDK names a single variant AllTraffic; a split gets one variant per model. */
export function variantNames(variantCount: number): string[] {
  return variantCount === 1
    ? ['AllTraffic']
    : Array.from({ length: variantCount }, (_, index) => `variant-${index + 1}`);
}

function modelName(endpointConfig: string, index: number): string {
  return `${endpointConfig}-m${index}`;
}

/** Whether `config` is named as an endpoint config of deployment `name`. */
export function isConfigNameOf(name: string, config: string): boolean {
  return config.length === name.length + 1 + hashLength && hexSuffixOf(name, config) !== undefined;
}

/** Whether `model` is named as a model of deployment `name`; its config's name when it is. */
export function configOfModelName(name: string, model: string): string | undefined {
  const match = /^(.*)-m\d+$/.exec(model);
  return match && isConfigNameOf(name, match[1]!) ? match[1] : undefined;
}

function hexSuffixOf(name: string, resource: string): string | undefined {
  if (!resource.startsWith(`${name}-`)) return undefined;
  const suffix = resource.slice(name.length + 1);
  return /^[0-9a-f]+$/.test(suffix) ? suffix : undefined;
}

/** The Application Auto Scaling resource id of a variant. */
export function variantResourceId(endpoint: string, variant: string): string {
  return `endpoint/${endpoint}/variant/${variant}`;
}

/** The CloudWatch alarm that rolls a blue/green update back. */
export function rollbackAlarmName(endpoint: string): string {
  return `mlscale-rollback-${endpoint}`;
}

/** CloudWatch alarms mlscale creates for alert rules. */
export const alertAlarmPrefix = 'mlscale-alert-';
