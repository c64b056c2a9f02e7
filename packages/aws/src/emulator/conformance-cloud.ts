import type { ConformanceCloud } from '@mlscale/core/conformance';
import type { AwsEmulator } from './start-aws-emulator.js';

/** What changes state at AWS, by operation name: what the conformance suite injects faults at. */
const mutating = /^(Create|Update|Delete|Register|Deregister|Put|Add)[A-Z]/;

function escaped(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The AWS emulator as the conformance suite sees a cloud: its request log, faults in AWS's own words
 * (IAM's AccessDeniedException, a 500 InternalFailure, ThrottlingException), a listener called after a
 * request took effect and before it is answered, and what the account holds for a deployment.
 */
export function awsConformanceCloud(emulator: AwsEmulator): ConformanceCloud {
  const tagsOf = (arn: string) => emulator.state.tags.get(arn);
  const ownedBy = (name: string, resourceName: string, arn: string) =>
    tagsOf(arn)?.get('mlscale:deployment') === name ||
    new RegExp(`^${escaped(name)}-[0-9a-f]+(-m\\d+)?$`).test(resourceName);
  const scalingPrefix = (name: string) => `endpoint/${name}/variant/`;

  return {
    requests: () => emulator.calls().map((call) => call.operation),
    resetRequests: () => emulator.resetCalls(),
    isMutating: (operation) => mutating.test(operation),
    injectFault(fault, operation, count) {
      if (fault === 'accessDenied') emulator.faults.add({ kind: 'accessDenied', operation, count });
      else if (fault === 'serverError') emulator.faults.add({ kind: 'error', operation, count, status: 500 });
      else emulator.faults.add({ kind: 'throttle', operation, count });
    },
    clearFaults: () => emulator.faults.clear(),
    onRequest: (listener) => emulator.onRequest(({ operation }) => listener(operation)),
    async resources(name) {
      const inventory = emulator.inventory();
      const { state } = emulator;
      return [
        ...inventory.endpoints
          .filter((endpoint) => endpoint === name)
          .map((endpoint) => `endpoint/${endpoint}`),
        ...inventory.endpointConfigs
          .filter((config) =>
            ownedBy(name, config, String(state.endpointConfigs.get(config)?.EndpointConfigArn)),
          )
          .map((config) => `endpoint-config/${config}`),
        ...inventory.models
          .filter((model) => ownedBy(name, model, String(state.models.get(model)?.ModelArn)))
          .map((model) => `model/${model}`),
        ...inventory.scalableTargets
          .filter((target) => target.startsWith(scalingPrefix(name)))
          .map((target) => `scalable-target/${target}`),
        ...inventory.scalingPolicies
          .filter((policy) => policy.startsWith(scalingPrefix(name)))
          .map((policy) => `scaling-policy/${policy}`),
        ...inventory.alarms
          .filter(
            (alarm) =>
              alarm === `mlscale-rollback-${name}` ||
              alarm.startsWith(`TargetTracking-${scalingPrefix(name)}`),
          )
          .map((alarm) => `alarm/${alarm}`),
      ];
    },
    async autoscaling(name) {
      const targets = [...emulator.state.scalableTargets.values()].filter((target) =>
        target.ResourceId.startsWith(scalingPrefix(name)),
      );
      if (targets.length === 0) return undefined;
      const policies = [...emulator.state.scalingPolicies.values()];
      for (const target of targets) {
        if (!policies.some((policy) => policy.input.ResourceId === target.ResourceId))
          throw new Error(
            `scalable target ${target.ResourceId} has no scaling policy: autoscaling is not in force`,
          );
      }
      const bounds = new Set(targets.map((target) => `${target.MinCapacity}-${target.MaxCapacity}`));
      if (bounds.size > 1)
        throw new Error(`the variants of ${name} have different bounds: ${[...bounds].join(', ')}`);
      return { minReplicas: targets[0]!.MinCapacity, maxReplicas: targets[0]!.MaxCapacity };
    },
    async containerEnvironment(name) {
      const endpoint = emulator.state.endpoints.get(name);
      const model = endpoint ? emulator.state.models.get(endpoint.variants[0]?.ModelName ?? '') : undefined;
      const container = model?.PrimaryContainer as { Environment?: Record<string, string> } | undefined;
      return endpoint ? { ...(container?.Environment ?? {}) } : undefined;
    },
    async dump() {
      return emulator.dump();
    },
  };
}
