import {
  canonicalJson,
  type DeploymentSpec,
  type DeploymentSpecInput,
  deploymentSpecSchema,
  MlscaleError,
  parseSpec,
} from '@mlscale/core';
import { type DeviceRequest, type ProviderProbe, selectDevice } from '../runtime/device-selection.js';
import { assertSafeBinding } from '../server/access.js';
import { type LocalDeploymentOptions, parseLocalDeploymentOptions } from './local-deployment-options.js';

/** A spec the local backend can run, with its `providerOptions.local` parsed. */
export interface CheckedSpec {
  spec: DeploymentSpec;
  local: LocalDeploymentOptions;
}

/**
 * Validates a spec for the local backend before anything is recorded: the schema, `providerOptions.local`,
 * what the local server does not do (serverless, networking, encryption, static traffic splits), and an
 * address that would serve the network without a token.
 */
export function checkDeploymentSpec(
  input: DeploymentSpec | DeploymentSpecInput,
  defaults: LocalDeploymentOptions,
): CheckedSpec {
  const spec = parseSpec(deploymentSpecSchema, input, 'deployment spec');
  const local = parseLocalDeploymentOptions(spec.providerOptions?.local);
  const unsupported: string[] = [];
  if (spec.serverless) unsupported.push('serverless');
  if (spec.network?.private || spec.network?.subnets?.length || spec.network?.securityGroups?.length)
    unsupported.push('network');
  if (spec.encryption) unsupported.push('encryption');
  if (spec.traffic && spec.traffic.length > 1)
    unsupported.push('traffic (use update with rollout steps to split traffic between versions)');
  if (unsupported.length > 0) {
    throw new MlscaleError({
      code: 'Unsupported',
      provider: 'local',
      message: `The local backend cannot run this deployment: it does not support ${unsupported.join(', ')}.`,
    });
  }
  const options = { ...defaults, ...local };
  assertSafeBinding(options.host ?? '127.0.0.1', options.token, options.allowUnauthenticated);
  return { spec, local };
}

/** Settings of the server itself: it keeps its address, routes and limits for the deployment's life. */
const fixedServerOptions = [
  'host',
  'port',
  'grpcPort',
  'token',
  'allowUnauthenticated',
  'tls',
  'maxBodyBytes',
  'predictRoute',
  'healthRoute',
] as const;

/**
 * Refuses a change of the server's fixed settings. Compares values as given: two sealed values are
 * equal exactly when the values behind them are (same deployment, same key).
 */
export function refuseServerOptionChanges(
  name: string,
  before: LocalDeploymentOptions,
  after: LocalDeploymentOptions,
): void {
  const field = fixedServerOptions.find(
    (option) => canonicalJson(before[option] ?? null) !== canonicalJson(after[option] ?? null),
  );
  if (!field) return;
  throw new MlscaleError({
    code: 'InvalidSpec',
    provider: 'local',
    message: `providerOptions.local.${field} of '${name}' cannot change on update (the server keeps its address and settings); delete and deploy again.`,
    issues: [{ path: `providerOptions.local.${field}`, message: 'cannot change on update' }],
  });
}

/** The device a spec asks for: its `providerOptions.local.device`, else `cuda` for an accelerator. */
export function deviceRequest(spec: DeploymentSpec, options: LocalDeploymentOptions): DeviceRequest {
  if (options.device) return options.device;
  return spec.instance?.accelerator ? 'cuda' : 'auto';
}

/**
 * Refuses what this machine cannot run, before it is recorded: `device: 'cuda'` (or an accelerator)
 * without a usable CUDA provider, and autoscaling on `gpuUtilization` off CUDA. The CUDA probe runs once
 * per process.
 */
export async function checkDevice(
  spec: DeploymentSpec,
  options: LocalDeploymentOptions,
  probe: ProviderProbe,
): Promise<void> {
  const device = await selectDevice(deviceRequest(spec, options), probe);
  if (spec.autoscaling?.target.metric !== 'gpuUtilization' || device.used === 'cuda') return;
  throw new MlscaleError({
    code: 'Unsupported',
    provider: 'local',
    message: `autoscaling on gpuUtilization needs a deployment on CUDA; '${spec.name}' would run on ${device.used} (${device.reason ?? 'requested'}).`,
  });
}
