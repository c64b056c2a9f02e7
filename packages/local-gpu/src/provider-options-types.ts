import type { z } from 'zod';
import type { localDeploymentOptionsSchema } from './deployments/local-deployment-options.js';

// Importing @mlscale/local-gpu types `providerOptions.local` in specs (see core's DeploymentProviderOptions).
declare module '@mlscale/core' {
  interface DeploymentProviderOptions {
    /** Local server options, as `localGpu()` validates them. */
    local?: z.input<typeof localDeploymentOptionsSchema>;
  }
}
