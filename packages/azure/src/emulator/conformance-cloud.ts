import type { ConformanceCloud } from '@mlscale/core/conformance';
import type { AzureMlEmulatorInspection } from './emulator-inspection.js';

/**
 * The emulator's inspection API as the conformance suite's view of the cloud: operations by name
 * (`PUT onlineEndpoints/deployments`, ...), faults per operation (throttling with `Retry-After: 0`, so
 * the sweeps stay fast), the listener between acting and answering, and what Azure holds.
 */
export function azureMlConformanceCloud(inspection: AzureMlEmulatorInspection): ConformanceCloud {
  return {
    requests: () => inspection.requests().map((request) => request.operation),
    resetRequests: () => inspection.resetRequests(),
    isMutating: (operation) => inspection.isMutating(operation),
    injectFault: (fault, operation, count) =>
      inspection.injectFault(fault, operation, count, { retryAfterSeconds: 0 }),
    clearFaults: () => inspection.clearFaults(),
    onRequest: (listener) => inspection.onRequest((request) => listener(request.operation)),
    resources: async (name) => inspection.inventory(name),
    autoscaling: async (name) => inspection.autoscaling(name),
    containerEnvironment: async (name) => inspection.containerEnvironment(name),
    dump: async () => inspection.dump(),
  };
}
