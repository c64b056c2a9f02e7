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
  /** The continuation token of a Machine Learning list page (`getContinuationToken`). */
  continuationToken(page: unknown): string | undefined;
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
  const [
    { AzureMachineLearningWorkspaces, getContinuationToken },
    { MonitorClient },
    { createPipelineFromOptions },
  ] = await Promise.all([
    import('@azure/arm-machinelearning'),
    import('@azure/arm-monitor'),
    import('@azure/core-rest-pipeline'),
  ]);
  const credential = settings.credential ?? (await defaultCredential());
  // One attempt per SDK call: the mlscale client is the one retry layer (its `retry.maxAttempts` per
  // backend call), so an attempt budget is not multiplied by the pipeline's own retry policy.
  const retryOptions = { maxRetries: 0 };
  const options = {
    endpoint: settings.endpoint,
    additionalPolicies: settings.additionalPolicies,
    userAgentOptions: { userAgentPrefix: 'mlscale-azure/0.1.0' },
    retryOptions,
  };
  // Scoring too: a retried 500 would land on another deployment and hide the failure from the caller
  // and from rollout error rates.
  const scoringPipeline = createPipelineFromOptions({
    userAgentOptions: options.userAgentOptions,
    retryOptions,
  });
  for (const { policy, position } of settings.additionalPolicies) {
    scoringPipeline.addPolicy(policy, position === 'perRetry' ? { afterPhase: 'Retry' } : {});
  }
  return {
    machineLearning: new AzureMachineLearningWorkspaces(credential, settings.subscriptionId, options),
    monitor: new MonitorClient(credential, settings.subscriptionId, options),
    credential,
    scoringPipeline,
    continuationToken: getContinuationToken,
  };
}

async function defaultCredential(): Promise<TokenCredential> {
  const { DefaultAzureCredential } = await import('@azure/identity');
  return new DefaultAzureCredential();
}
