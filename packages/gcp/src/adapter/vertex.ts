import { type BackendCapabilitiesV1, type BackendV1, noCapabilitiesV1 } from '@mlscale/core';
import { createClientPool } from './clients.js';
import type { AdapterContext } from './context.js';
import { createDeploymentOperations } from './deployments.js';
import { provider } from './errors.js';
import { createModelOperations } from './models.js';
import { createMonitoringOperations } from './monitoring.js';
import { resolveSettings, type VertexSettingsInput } from './settings.js';
import { createTrainingOperations } from './training.js';

/** What Vertex AI offers through this backend. */
export const vertexCapabilities: BackendCapabilitiesV1 = {
  ...noCapabilitiesV1,
  // Vertex v1 keeps at least one replica and has no serverless custom-container endpoints.
  serverless: false,
  scaleToZero: false,
  autoscaling: true,
  spot: true,
  distributed: true,
  gpu: true,
  trafficSplit: true,
  privateNetworking: true,
  customerManagedKeys: true,
  training: true,
  modelRegistry: true,
  monitoring: true,
};

/**
 * The Vertex AI backend: deployments as endpoints with deployed models, training as CustomJobs,
 * models in the Vertex Model Registry, metrics and logs from Cloud Monitoring and Cloud Logging. The
 * Google clients load on first use. Pass it to `createMlscale({ backend: vertex({ project, location }) })`.
 */
export function vertex(settings: VertexSettingsInput = {}): BackendV1 {
  const resolved = resolveSettings(settings);
  const clients = createClientPool(resolved);
  const context: AdapterContext = { settings: resolved, clients };
  return {
    specificationVersion: 'v1',
    provider,
    capabilities: vertexCapabilities,
    deployments: createDeploymentOperations(context),
    training: createTrainingOperations(context),
    monitoring: createMonitoringOperations(context),
    models: createModelOperations(context),
    async close() {
      await clients.close();
    },
  };
}
