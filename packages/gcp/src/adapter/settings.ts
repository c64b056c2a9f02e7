import type { ChannelCredentials } from '@grpc/grpc-js';
import { MlscaleError, parseSpec } from '@mlscale/core';
import { z } from 'zod';

/** Settings of `vertex()`. Each falls back to an environment variable, then to Google's own defaults. */
export const vertexSettingsSchema = z
  .object({
    /** The Google Cloud project id. Env: GOOGLE_CLOUD_PROJECT, GCLOUD_PROJECT, CLOUDSDK_CORE_PROJECT. */
    project: z.string().min(1).optional(),
    /** The Vertex AI region. Env: GOOGLE_CLOUD_REGION, CLOUD_ML_REGION. Default `us-central1`. */
    location: z.string().min(1).optional(),
    /** The Vertex AI API host (`{location}-aiplatform.googleapis.com` by default; the emulator's for tests). */
    apiEndpoint: z.string().min(1).optional(),
    /** The API port (443 by default). */
    port: z.number().int().min(1).max(65_535).optional(),
    /** gRPC channel credentials (insecure ones for a loopback emulator); no Google auth is sent with these. */
    sslCreds: z
      .custom<ChannelCredentials>(
        (value) => typeof value === 'object' && value !== null,
        'expected grpc ChannelCredentials',
      )
      .optional(),
    /** The Cloud Monitoring API host; default: `apiEndpoint` when that is set, else monitoring.googleapis.com. */
    monitoringApiEndpoint: z.string().min(1).optional(),
    /** The Cloud Logging API host; default: `apiEndpoint` when that is set, else logging.googleapis.com. */
    loggingApiEndpoint: z.string().min(1).optional(),
    /** The Cloud Storage JSON API URL. Env: STORAGE_EMULATOR_HOST. Default: Google's. */
    storageEndpoint: z.string().url('expected an http(s) URL').optional(),
    /** The bucket local model files are uploaded to (`my-bucket` or `gs://my-bucket/prefix`). Env: MLSCALE_GCS_BUCKET. */
    bucket: z.string().min(3).optional(),
    /** A service-account key file. Default: application default credentials. */
    keyFilename: z.string().min(1).optional(),
    /** Service-account credentials as an object (`client_email`, `private_key`). */
    credentials: z.object({ client_email: z.string(), private_key: z.string() }).passthrough().optional(),
    /** A google-auth-library client to use instead of application default credentials. */
    authClient: z
      .custom<object>((value) => typeof value === 'object' && value !== null, 'expected an auth client')
      .optional(),
    /** The serving container every deployment runs: the mlscale server image. */
    servingContainer: z
      .object({
        /** Default `us-docker.pkg.dev/mlscale/images/mlscale-server:latest` (env MLSCALE_SERVING_IMAGE). */
        imageUri: z.string().min(1).optional(),
        /** The port it listens on (Vertex sets AIP_HTTP_PORT). Default 8080. */
        port: z.number().int().min(1).max(65_535).default(8080),
        /** Routes, when the container does not read AIP_PREDICT_ROUTE / AIP_HEALTH_ROUTE. */
        predictRoute: z.string().startsWith('/').optional(),
        healthRoute: z.string().startsWith('/').optional(),
      })
      .strict()
      .default({ port: 8080 }),
    /** The image of training jobs that give only a command. */
    trainingImage: z.string().min(1).optional(),
    /** The machine type when a spec names none. Default `n1-standard-4`. */
    defaultMachineType: z.string().min(1).default('n1-standard-4'),
    /** The accelerator for specs asking for `gpu` without a type. Default `NVIDIA_TESLA_T4`. */
    defaultAcceleratorType: z.string().min(1).default('NVIDIA_TESLA_T4'),
    /**
     * How the operations mlscale waits for are polled: a new deployment's CreateEndpoint (its endpoint holds
     * the deployment's record) and model registry uploads. Deployment steps never wait on their own
     * operations. `createEndpointWaitMs` bounds each wait for a CreateEndpoint (default 10 s): past it,
     * deploy answers Creating and the next reconcile step looks again.
     */
    polling: z
      .object({
        minDelayMs: z.number().min(1).default(100),
        maxDelayMs: z.number().min(1).default(10_000),
        createEndpointWaitMs: z.number().min(0).max(600_000).default(10_000),
      })
      .strict()
      .default({ minDelayMs: 100, maxDelayMs: 10_000, createEndpointWaitMs: 10_000 }),
  })
  .strict();

export type VertexSettingsInput = z.input<typeof vertexSettingsSchema>;

/** Settings after defaults and the environment: project and location are known. */
export type VertexSettings = z.infer<typeof vertexSettingsSchema> & {
  project: string;
  location: string;
  servingImage: string;
};

export function resolveSettings(
  input: VertexSettingsInput,
  environment: NodeJS.ProcessEnv = process.env,
): VertexSettings {
  const parsed = parseSpec(vertexSettingsSchema, input, 'vertex() settings');
  const project =
    parsed.project ??
    environment.GOOGLE_CLOUD_PROJECT ??
    environment.GCLOUD_PROJECT ??
    environment.CLOUDSDK_CORE_PROJECT;
  if (!project) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      provider: 'gcp',
      message: 'Invalid vertex() settings:\n  - project: expected a project id (or set GOOGLE_CLOUD_PROJECT)',
      issues: [{ path: 'project', message: 'expected a project id (or set GOOGLE_CLOUD_PROJECT)' }],
    });
  }
  const location =
    parsed.location ?? environment.GOOGLE_CLOUD_REGION ?? environment.CLOUD_ML_REGION ?? 'us-central1';
  const storageHost = environment.STORAGE_EMULATOR_HOST;
  const storageEndpoint =
    parsed.storageEndpoint ??
    (storageHost ? (storageHost.startsWith('http') ? storageHost : `http://${storageHost}`) : undefined);
  const bucket = parsed.bucket ?? environment.MLSCALE_GCS_BUCKET;
  return {
    ...parsed,
    project,
    location,
    ...(storageEndpoint ? { storageEndpoint } : {}),
    ...(bucket ? { bucket } : {}),
    servingImage:
      parsed.servingContainer.imageUri ??
      environment.MLSCALE_SERVING_IMAGE ??
      'us-docker.pkg.dev/mlscale/images/mlscale-server:latest',
  };
}
