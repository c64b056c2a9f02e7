import type { OnlineDeployment } from '@azure/arm-machinelearning';
import { MlscaleError } from '@mlscale/core';
import { containerEnvironmentLookup } from './container-environment.js';
import type { StepContext } from './step-context.js';
import { provider } from './to-mlscale-error.js';

/** Log lines kept in a failure reason. */
const reasonLines = 3;

/**
 * Why a deployment is Failed, in Azure's words: the 2022-10-01 deployment resource carries no error, so
 * the reason is read from the inference server's container log (`getLogs`), its error lines first.
 * Secret values are masked (the secret memory's `mask`), so a container that prints its environment does
 * not put secrets into statuses, records or errors: a process that did not deploy this version first
 * learns the values from Azure's copy of the container's environment, where they seal to the record.
 */
export async function provisioningFailureReason(
  step: StepContext,
  deployment: OnlineDeployment,
): Promise<string> {
  const { context, name: endpoint, record, secrets, signal } = step;
  const name = deployment.name ?? '';
  const { resourceGroup, workspace } = context.settings;
  let content = '';
  try {
    const logs = await context.call(
      `Reading the logs of '${endpoint}/${name}'`,
      (clients) =>
        clients.machineLearning.onlineDeployments.getLogs(
          resourceGroup,
          workspace,
          endpoint,
          name,
          { containerType: 'InferenceServer', tail: 50 },
          { abortSignal: signal },
        ),
      signal,
    );
    content = logs.content ?? '';
  } catch (error) {
    if (MlscaleError.hasCode(error, 'Aborted')) throw error;
    // The logs are a courtesy; the failure stands without them.
  }
  const lines = content.split('\n').filter((line) => line.trim() !== '');
  const errors = lines.filter((line) => /error|fail|crash|exception/i.test(line));
  const chosen = (errors.length > 0 ? errors : lines).slice(-reasonLines);
  const log = chosen.length > 0 ? `; its log says: ${chosen.join(' | ')}` : '; read its logs for the cause';
  // Only for what it teaches the memory; a value known nowhere is not in the container either.
  secrets.resolve(record.desired, containerEnvironmentLookup(deployment));
  return secrets.mask(
    `deployment '${endpoint}/${name}' failed to provision (provisioningState Failed)${log}`,
  );
}

/** The refusal a failed provisioning is: not retried, and the change is abandoned. */
export function provisioningRefusal(reason: string, traffic: string): MlscaleError {
  return new MlscaleError({
    code: 'BackendFailure',
    provider,
    retryable: false,
    message: `Azure could not run the new version: ${reason}. Traffic stays on ${traffic}.`,
  });
}
