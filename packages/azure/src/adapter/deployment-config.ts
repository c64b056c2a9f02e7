import type { OnlineDeployment } from '@azure/arm-machinelearning';
import { canonicalJson, sealSecrets } from '@mlscale/core';

const same = (left: string | undefined, right: string | undefined) =>
  (left ?? '').toLowerCase() === (right ?? '').toLowerCase();

/**
 * What differs between a deployment Azure runs and the body mlscale would PUT for it now (environment
 * variables compared sealed with `secretKey`, so a value behind a seal matches the seal), or undefined
 * when it runs as asked. Capacity is not compared: autoscaling owns it, or a PATCH changes it.
 */
export function configDifference(
  existing: OnlineDeployment,
  wanted: OnlineDeployment,
  secretKey: string,
): string | undefined {
  const running = existing.properties;
  const asked = wanted.properties;
  if (!same(running.model, asked.model)) return 'it runs another model version';
  if (!same(running.environmentId, asked.environmentId)) return 'it runs another environment';
  if (running.instanceType !== asked.instanceType)
    return `it runs on ${running.instanceType ?? 'the default instance type'}, ${asked.instanceType} is asked for`;
  const sealed = (variables: Record<string, string | null> | undefined) =>
    canonicalJson(sealSecrets(variables ?? {}, secretKey).sealed);
  if (sealed(running.environmentVariables) !== sealed(asked.environmentVariables))
    return 'its environment variables differ';
  const settings = (deployment: OnlineDeployment['properties']) => {
    const request = (deployment as { requestSettings?: Record<string, unknown> }).requestSettings ?? {};
    // The SDK's serializer fills in the API's defaults, so what Azure holds has them where the body had none.
    return canonicalJson({
      requestTimeout: request.requestTimeout ?? 'PT5S',
      maxQueueWait: request.maxQueueWait ?? 'PT0.5S',
      maxConcurrentRequestsPerInstance: request.maxConcurrentRequestsPerInstance ?? 1,
      appInsightsEnabled: deployment.appInsightsEnabled ?? false,
    });
  };
  if (settings(running) !== settings(asked)) return 'its request settings differ';
  return undefined;
}
