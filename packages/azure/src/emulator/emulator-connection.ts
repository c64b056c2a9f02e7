import { Agent } from 'node:https';
import type { TokenCredential } from '@azure/core-auth';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { createEmulatorRedirectPolicy } from './redirect-policy.js';
import { createStubCredential } from './stub-credential.js';

/** Where an emulator listens and the certificate it serves, as `startAzureMlEmulator()` reports them. */
export interface AzureMlEmulatorAddress {
  /** `https://127.0.0.1:PORT`. */
  url: string;
  /** The emulator's self-signed certificate (PEM). */
  certificate: string;
}

/** What `azureml()` needs to talk to an emulator, beside its own options. */
export interface AzureMlEmulatorSettings {
  subscriptionId: string;
  resourceGroup: string;
  workspace: string;
  credential: TokenCredential;
  additionalPolicies: { policy: PipelinePolicy; position: 'perRetry' }[];
  pollIntervalMs: number;
}

/** The emulator's one workspace. */
export const emulatorWorkspace = {
  subscriptionId: '00000000-0000-0000-0000-000000000001',
  resourceGroup: 'mlscale-emulator',
  workspace: 'mlscale-workspace',
} as const;

/**
 * `azureml()` settings that reach a running emulator, from this process or another one (a CLI run, a
 * service under test): the workspace's ids, a stub credential, and the pipeline policy that sends ARM
 * and scoring requests to `address.url` trusting `address.certificate` for those requests only.
 *
 * ```ts
 * azureml({ ...azureMlEmulatorSettings({ url, certificate }), blobServiceUrl })
 * ```
 */
export function azureMlEmulatorSettings(
  address: AzureMlEmulatorAddress,
  agent: Agent = new Agent({ ca: address.certificate, keepAlive: true }),
): AzureMlEmulatorSettings {
  return {
    ...emulatorWorkspace,
    credential: createStubCredential(),
    additionalPolicies: [{ policy: createEmulatorRedirectPolicy(address.url, agent), position: 'perRetry' }],
    pollIntervalMs: 20,
  };
}
