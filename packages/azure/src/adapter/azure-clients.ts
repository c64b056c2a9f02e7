import type { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import type { MonitorClient } from '@azure/arm-monitor';
import type { TokenCredential } from '@azure/core-auth';
import type { Pipeline } from '@azure/core-rest-pipeline';
import type { ResolvedAzureMlSettings } from './settings.js';

/** The SDK clients one backend uses, made on first use so importing this package loads no SDK. */
export interface AzureClients {
  machineLearning: AzureMachineLearningWorkspaces;
  monitor: MonitorClient;
  credential: TokenCredential;
  /** A pipeline without ARM signing, for scoring requests (they carry the endpoint's key or token). */
  scoringPipeline: Pipeline;
}

/** Lazily creates the clients once; concurrent first calls share one creation. */
export function lazyClients(settings: ResolvedAzureMlSettings): () => Promise<AzureClients> {
  let pending: Promise<AzureClients> | undefined;
  return () => {
    pending ??= createClients(settings).catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

async function createClients(settings: ResolvedAzureMlSettings): Promise<AzureClients> {
  const [{ AzureMachineLearningWorkspaces }, { MonitorClient }, { createPipelineFromOptions }] =
    await Promise.all([
      import('@azure/arm-machinelearning'),
      import('@azure/arm-monitor'),
      import('@azure/core-rest-pipeline'),
    ]);
  const credential = settings.credential ?? (await defaultCredential());
  const options = {
    endpoint: settings.endpoint,
    additionalPolicies: settings.additionalPolicies,
    userAgentOptions: { userAgentPrefix: 'mlscale-azure/0.1.0' },
  };
  // No pipeline retries for scoring: a retried 500 would land on another deployment and hide the failure
  // from the caller and from rollout error rates; the mlscale client retries throttling itself.
  const scoringPipeline = createPipelineFromOptions({
    userAgentOptions: options.userAgentOptions,
    retryOptions: { maxRetries: 0 },
  });
  for (const { policy, position } of settings.additionalPolicies) {
    scoringPipeline.addPolicy(policy, position === 'perRetry' ? { afterPhase: 'Retry' } : {});
  }
  return {
    machineLearning: new AzureMachineLearningWorkspaces(credential, settings.subscriptionId, options),
    monitor: new MonitorClient(credential, settings.subscriptionId, options),
    credential,
    scoringPipeline,
  };
}

async function defaultCredential(): Promise<TokenCredential> {
  const { DefaultAzureCredential } = await import('@azure/identity');
  return new DefaultAzureCredential();
}
