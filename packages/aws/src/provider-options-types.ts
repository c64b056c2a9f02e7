import type { z } from 'zod';
import type { deploymentAwsOptionsSchema, trainingAwsOptionsSchema } from './adapter/provider-options.js';

// Importing @mlscale/aws types `providerOptions.aws` in specs (see core's DeploymentProviderOptions).
declare module '@mlscale/core' {
  interface DeploymentProviderOptions {
    /** SageMaker options, as `sagemaker()` validates them. */
    aws?: z.input<typeof deploymentAwsOptionsSchema>;
  }
  interface TrainingProviderOptions {
    /** SageMaker training options, as `sagemaker()` validates them. */
    aws?: z.input<typeof trainingAwsOptionsSchema>;
  }
}
