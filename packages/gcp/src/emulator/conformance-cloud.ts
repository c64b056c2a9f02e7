import type { ConformanceCloud } from '@mlscale/core/conformance';
import type { VertexEmulatorInspection } from './emulator-inspection.js';

/**
 * The Vertex emulator as core's conformance suite sees a cloud: its RPC log and faults, the moment after
 * a request was carried out, and what it holds per deployment (endpoints, deployed models, models).
 */
export function vertexConformanceCloud(inspection: VertexEmulatorInspection): ConformanceCloud {
  return {
    requests: () => inspection.requests(),
    resetRequests: () => inspection.resetRequests(),
    isMutating: (operation) => inspection.isMutating(operation),
    injectFault: (fault, operation, count) => inspection.injectFault(fault, operation, count),
    clearFaults: () => inspection.clearFaults(),
    onRequest: (listener) => inspection.onRequest(listener),
    async resources(name) {
      const held = inspection.inventory(name);
      return [
        ...held.endpoints.map((endpoint) => `endpoint/${endpoint}`),
        ...held.deployedModels.map((deployed) => `deployedModel/${deployed}`),
        ...held.models.map((model) => `model/${model}`),
      ];
    },
    autoscaling: async (name) => inspection.autoscaling(name),
    containerEnvironment: async (name) => inspection.containerEnvironment(name),
    dump: async () => inspection.dump(),
  };
}
