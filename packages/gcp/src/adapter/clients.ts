import type { v1 as aiplatformV1 } from '@google-cloud/aiplatform';
import type { v2 as loggingV2 } from '@google-cloud/logging-api';
import type { AlertPolicyServiceClient, MetricServiceClient } from '@google-cloud/monitoring';
import type { Storage } from '@google-cloud/storage';
import type { VertexSettings } from './settings.js';

/** The Google clients the adapter uses, created on first use (the SDKs are heavy to load). */
export interface VertexClients {
  endpoints: aiplatformV1.EndpointServiceClient;
  models: aiplatformV1.ModelServiceClient;
  predictions: aiplatformV1.PredictionServiceClient;
  jobs: aiplatformV1.JobServiceClient;
  metrics: MetricServiceClient;
  alertPolicies: AlertPolicyServiceClient;
  logging: loggingV2.LoggingServiceV2Client;
  storage: Storage;
}

export interface ClientPool {
  get(): Promise<VertexClients>;
  close(): Promise<void>;
}

export function createClientPool(settings: VertexSettings): ClientPool {
  let created: Promise<VertexClients> | undefined;

  async function create(): Promise<VertexClients> {
    // Each client's own module: the package index loads every one of Vertex's ~40 clients (seconds).
    const [endpointModule, modelModule, predictionModule, jobModule, monitoring, logging, { Storage }] =
      await Promise.all([
        import('@google-cloud/aiplatform/build/src/v1/endpoint_service_client.js') as Promise<
          Pick<typeof aiplatformV1, 'EndpointServiceClient'>
        >,
        import('@google-cloud/aiplatform/build/src/v1/model_service_client.js') as Promise<
          Pick<typeof aiplatformV1, 'ModelServiceClient'>
        >,
        import('@google-cloud/aiplatform/build/src/v1/prediction_service_client.js') as Promise<
          Pick<typeof aiplatformV1, 'PredictionServiceClient'>
        >,
        import('@google-cloud/aiplatform/build/src/v1/job_service_client.js') as Promise<
          Pick<typeof aiplatformV1, 'JobServiceClient'>
        >,
        import('@google-cloud/monitoring'),
        import('@google-cloud/logging-api'),
        import('@google-cloud/storage'),
      ]);
    const auth = await authOptions(settings);
    const vertexOptions = {
      ...auth,
      apiEndpoint: settings.apiEndpoint ?? `${settings.location}-aiplatform.googleapis.com`,
      ...(settings.port ? { port: settings.port } : {}),
      ...(settings.sslCreds ? { sslCreds: settings.sslCreds } : {}),
    };
    // With a custom Vertex host (an emulator), Monitoring and Logging default to the same host.
    const sideOptions = (host: string | undefined) => ({
      ...auth,
      ...(host ? { apiEndpoint: host } : {}),
      ...(host && settings.port ? { port: settings.port } : {}),
      ...(host && settings.sslCreds ? { sslCreds: settings.sslCreds } : {}),
    });
    const monitoringOptions = sideOptions(settings.monitoringApiEndpoint ?? settings.apiEndpoint);
    const loggingOptions = sideOptions(settings.loggingApiEndpoint ?? settings.apiEndpoint);
    return {
      endpoints: new endpointModule.EndpointServiceClient(vertexOptions),
      models: new modelModule.ModelServiceClient(vertexOptions),
      predictions: new predictionModule.PredictionServiceClient(vertexOptions),
      jobs: new jobModule.JobServiceClient(vertexOptions),
      metrics: new monitoring.MetricServiceClient(monitoringOptions),
      alertPolicies: new monitoring.AlertPolicyServiceClient(monitoringOptions),
      logging: new logging.v2.LoggingServiceV2Client(loggingOptions),
      storage: new Storage({
        projectId: settings.project,
        // One attempt per request: the client's retry policy is the one retry layer.
        retryOptions: { autoRetry: false, maxRetries: 0 },
        ...(settings.storageEndpoint ? { apiEndpoint: settings.storageEndpoint } : {}),
        ...(settings.keyFilename ? { keyFilename: settings.keyFilename } : {}),
        ...(settings.credentials ? { credentials: settings.credentials } : {}),
        ...(settings.authClient ? { authClient: settings.authClient as never } : {}),
      }),
    };
  }

  return {
    get() {
      created ??= create();
      return created;
    },
    async close() {
      if (!created) return;
      const clients = await created.catch(() => undefined);
      created = undefined;
      if (!clients) return;
      await Promise.allSettled([
        clients.endpoints.close(),
        clients.models.close(),
        clients.predictions.close(),
        clients.jobs.close(),
        clients.metrics.close(),
        clients.alertPolicies.close(),
        clients.logging.close(),
      ]);
    },
  };
}

/**
 * How the clients authenticate. With custom channel credentials (an emulator, a private endpoint
 * through a proxy) gRPC sends no Google token, so a pass-through client stands in and nothing probes the
 * metadata server; otherwise application default credentials, or what the settings name.
 */
async function authOptions(settings: VertexSettings): Promise<Record<string, unknown>> {
  const options: Record<string, unknown> = { projectId: settings.project };
  if (settings.authClient) return { ...options, authClient: settings.authClient };
  if (settings.credentials) return { ...options, credentials: settings.credentials };
  if (settings.keyFilename) return { ...options, keyFilename: settings.keyFilename };
  if (settings.sslCreds) {
    const { PassThroughClient } = await import('google-auth-library');
    return { ...options, authClient: new PassThroughClient() };
  }
  return options;
}
