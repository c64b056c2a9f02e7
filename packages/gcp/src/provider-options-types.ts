import type { z } from 'zod';
import type { gcpDeploymentOptionsSchema, gcpTrainingOptionsSchema } from './adapter/provider-options.js';

// Importing @mlscale/gcp types `providerOptions.gcp` in specs (see core's DeploymentProviderOptions).
declare module '@mlscale/core' {
  interface DeploymentProviderOptions {
    /** Vertex AI options, as `vertex()` validates them. */
    gcp?: z.input<typeof gcpDeploymentOptionsSchema>;
  }
  interface TrainingProviderOptions {
    /** Vertex AI training options, as `vertex()` validates them. */
    gcp?: z.input<typeof gcpTrainingOptionsSchema>;
  }
}
