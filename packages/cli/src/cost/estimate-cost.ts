import type { DeploymentSpec, TrainingJobSpec } from '@mlscale/core';
import type { PricingOverride } from '../config/config-schema.js';
import { type PriceTable, type ProviderPrices, priceTable as shippedTable } from './price-table.js';

/** Hours in an average month (365 × 24 / 12), as the clouds' calculators use. */
export const hoursPerMonth = 730;

/** What one resource costs while it runs. */
export interface CostEstimate {
  /** USD per hour: one figure, or a range for autoscaling (min → max replicas). `undefined`: unknown. */
  hourly: { minimum: number; maximum: number } | undefined;
  /** How it is priced: `free`, `instance`, `spot`, `serverless` (usage-based: hourly is 0 when idle), `unknown`. */
  basis: 'free' | 'instance' | 'spot' | 'serverless' | 'unknown';
  /** For serverless: USD per million requests at 100 ms each. For a job with a max runtime: USD per run at most. */
  usage?: { perMillionRequests?: number; perRunAtMost?: number };
  /** Why it is unknown, or what the figure assumes. */
  note?: string;
}

/** The shipped table with the user's overrides merged in. */
export function pricesWith(
  override: PricingOverride | undefined,
  table: PriceTable = shippedTable,
): PriceTable {
  if (!override) return table;
  const providers = { ...table.providers };
  for (const provider of ['aws', 'azure', 'gcp'] as const) {
    const extra = override[provider];
    if (extra)
      providers[provider] = {
        ...providers[provider],
        instances: { ...providers[provider].instances, ...extra },
      };
  }
  return { ...table, providers };
}

/** Prices a deployment or training job on a provider (`local`, `aws`, `azure`, `gcp`, or a test backend). */
export function estimateCost(
  resource: { kind: 'deployment'; spec: DeploymentSpec } | { kind: 'trainingJob'; spec: TrainingJobSpec },
  provider: string,
  table: PriceTable,
): CostEstimate {
  if (provider === 'local' || provider === 'memory' || provider === 'file') {
    return { hourly: { minimum: 0, maximum: 0 }, basis: 'free', note: 'runs on this machine' };
  }
  const prices = table.providers[provider as 'aws' | 'azure' | 'gcp'] as ProviderPrices | undefined;
  if (!prices) return { hourly: undefined, basis: 'unknown', note: `no prices for provider '${provider}'` };
  return resource.kind === 'deployment'
    ? deploymentCost(resource.spec, provider, prices)
    : trainingCost(resource.spec, provider, prices);
}

function deploymentCost(spec: DeploymentSpec, provider: string, prices: ProviderPrices): CostEstimate {
  if (spec.serverless) {
    if (prices.serverlessPerGbSecond === undefined) {
      return { hourly: undefined, basis: 'unknown', note: `no serverless price for ${provider}` };
    }
    const perRequest = (spec.serverless.memoryMb / 1024) * 0.1 * prices.serverlessPerGbSecond;
    return {
      hourly: { minimum: 0, maximum: 0 },
      basis: 'serverless',
      usage: { perMillionRequests: round(perRequest * 1_000_000) },
      note: `billed per request (${spec.serverless.memoryMb} MB); nothing when idle`,
    };
  }
  const perReplica = instanceHourly(spec.instance?.type, spec.instance?.accelerator, provider, prices);
  if (typeof perReplica === 'string') return { hourly: undefined, basis: 'unknown', note: perReplica };
  const minimum = spec.autoscaling ? spec.autoscaling.minReplicas : spec.replicas;
  const maximum = spec.autoscaling ? spec.autoscaling.maxReplicas : spec.replicas;
  return {
    hourly: { minimum: round(perReplica * minimum), maximum: round(perReplica * maximum) },
    basis: 'instance',
    note: `${spec.instance?.type} × ${minimum === maximum ? minimum : `${minimum}–${maximum}`} at $${perReplica}/h`,
  };
}

function trainingCost(spec: TrainingJobSpec, provider: string, prices: ProviderPrices): CostEstimate {
  const accelerator =
    spec.resources.gpus > 0
      ? { type: String(spec.providerOptions?.gcp?.acceleratorType ?? ''), count: spec.resources.gpus }
      : undefined;
  const perNode = instanceHourly(
    spec.resources.instanceType,
    accelerator?.type ? accelerator : undefined,
    provider,
    prices,
  );
  if (typeof perNode === 'string') return { hourly: undefined, basis: 'unknown', note: perNode };
  const factor = spec.spot ? prices.spotFactor : 1;
  const hourly = round(perNode * spec.resources.instanceCount * factor);
  return {
    hourly: { minimum: hourly, maximum: hourly },
    basis: spec.spot ? 'spot' : 'instance',
    ...(spec.maxRuntimeSeconds
      ? { usage: { perRunAtMost: round((hourly * spec.maxRuntimeSeconds) / 3600) } }
      : {}),
    note: `${spec.resources.instanceType} × ${spec.resources.instanceCount}${spec.spot ? ` on spot (${Math.round((1 - prices.spotFactor) * 100)}% off)` : ''}`,
  };
}

/** USD per hour for one instance with its accelerators, or why it is unknown. */
function instanceHourly(
  type: string | undefined,
  accelerator: { type: string; count: number } | undefined,
  provider: string,
  prices: ProviderPrices,
): number | string {
  if (!type) return `no instance type set: the ${provider} backend picks one, price unknown`;
  const base = prices.instances[type];
  if (base === undefined) return `no price for '${type}' in the table: add pricing.${provider}['${type}']`;
  if (!accelerator || !prices.accelerators) return base;
  const key = accelerator.type.toLowerCase().replaceAll('_', '-');
  const each = prices.accelerators[key];
  if (each === undefined) return `no price for accelerator '${accelerator.type}': add it with --prices`;
  return round(base + each * accelerator.count);
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

/** `$1.41/h ($1,027.84/mo)`, or a range; training jobs show the per-run ceiling instead of a month. */
export function formatCost(
  estimate: CostEstimate,
  kind: 'deployment' | 'trainingJob' = 'deployment',
): string {
  if (!estimate.hourly) return `price unknown (${estimate.note})`;
  if (estimate.basis === 'free') return 'free';
  if (estimate.basis === 'serverless')
    return `$${estimate.usage?.perMillionRequests?.toFixed(2)}/1M requests`;
  const { minimum, maximum } = estimate.hourly;
  const money = (value: number) =>
    `$${value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  const hourly = minimum === maximum ? `${money(minimum)}/h` : `${money(minimum)}–${money(maximum)}/h`;
  if (kind === 'trainingJob') {
    const ceiling = estimate.usage?.perRunAtMost;
    return `${hourly}${estimate.basis === 'spot' ? ' spot' : ''}${ceiling === undefined ? '' : ` (at most ${money(ceiling)} per run)`}`;
  }
  const monthly =
    minimum === maximum
      ? money(minimum * hoursPerMonth)
      : `${money(minimum * hoursPerMonth)}–${money(maximum * hoursPerMonth)}`;
  return `${hourly} (${monthly}/mo)`;
}
