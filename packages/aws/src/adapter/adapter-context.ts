import type { AwsCaller } from './aws-clients.js';
import type { ArtifactStore } from './s3-artifacts.js';
import type { ResolvedSageMakerSettings } from './sagemaker-settings.js';

/** What the operation groups share. */
export interface AdapterContext {
  provider: 'aws';
  settings: ResolvedSageMakerSettings;
  aws: AwsCaller;
  artifacts: ArtifactStore;
}
