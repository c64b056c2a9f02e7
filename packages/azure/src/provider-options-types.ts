import type { z } from 'zod';
import type { azureDeploymentOptionsSchema } from './adapter/deployment-options.js';
import type { azureTrainingOptionsSchema } from './adapter/training-operations.js';

// Importing @mlscale/azure types `providerOptions.azure` in specs (see core's DeploymentProviderOptions).
declare module '@mlscale/core' {
  interface DeploymentProviderOptions {
    /** Azure ML options, as `azureml()` validates them. */
    azure?: z.input<typeof azureDeploymentOptionsSchema>;
  }
  interface TrainingProviderOptions {
    /** Azure ML training options, as `azureml()` validates them. */
    azure?: z.input<typeof azureTrainingOptionsSchema>;
  }
}
