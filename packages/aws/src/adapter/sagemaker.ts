import { type BackendCapabilitiesV1, type BackendV1, noCapabilitiesV1 } from '@mlscale/core';
import type { AdapterContext } from './adapter-context.js';
import { createAwsCaller } from './aws-clients.js';
import { createDeploymentOperations } from './deployment-operations.js';
import { createModelRegistryOperations } from './model-registry-operations.js';
import { createMonitoringOperations } from './monitoring-operations.js';
import { createArtifactStore } from './s3-artifacts.js';
import { resolveSageMakerSettings, type SageMakerSettings } from './sagemaker-settings.js';
import { createTrainingOperations } from './training-operations.js';

/** What SageMaker can do through mlscale. */
export const sageMakerCapabilities: BackendCapabilitiesV1 = {
  ...noCapabilitiesV1,
  serverless: true,
  // Real-time endpoints keep one instance; scale to zero needs inference components, not used here.
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
 * The AWS SageMaker backend: deployments as SageMaker endpoints, training as training jobs, metrics,
 * logs and alerts through CloudWatch, models in the SageMaker Model Registry, over the official AWS SDK v3 clients (imported on first use).
 *
 * @example
 * const client = createMlscale({ backend: sagemaker({ region: 'eu-west-1', roleArn, servingImage }) });
 */
export function sagemaker(settings: SageMakerSettings = {}): BackendV1 {
  const resolved = resolveSageMakerSettings(settings);
  const aws = createAwsCaller(resolved);
  const context: AdapterContext = {
    provider: 'aws',
    settings: resolved,
    aws,
    artifacts: createArtifactStore(resolved, aws),
  };
  return {
    specificationVersion: 'v1',
    provider: 'aws',
    capabilities: sageMakerCapabilities,
    deployments: createDeploymentOperations(context),
    training: createTrainingOperations(context),
    monitoring: createMonitoringOperations(context),
    models: createModelRegistryOperations(context),
    async close() {
      aws.destroy();
    },
  };
}
