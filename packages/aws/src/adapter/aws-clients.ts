import type * as AutoScalingModule from '@aws-sdk/client-application-auto-scaling';
import type * as CloudWatchModule from '@aws-sdk/client-cloudwatch';
import type * as LogsModule from '@aws-sdk/client-cloudwatch-logs';
import type * as S3Module from '@aws-sdk/client-s3';
import type * as SageMakerModule from '@aws-sdk/client-sagemaker';
import type * as RuntimeModule from '@aws-sdk/client-sagemaker-runtime';
import { MlscaleError } from '@mlscale/core';
import { cloudCall, itemsOfPages } from '@mlscale/core/provider-utils';
import { fromAwsError } from './aws-error.js';
import type { ResolvedSageMakerSettings } from './sagemaker-settings.js';

/** A loaded SDK: its module (for the command classes) and its client. */
export interface LoadedService<Module, Client> {
  module: Module;
  client: Client;
}

export interface AwsServices {
  sageMaker: LoadedService<typeof SageMakerModule, SageMakerModule.SageMakerClient>;
  runtime: LoadedService<typeof RuntimeModule, RuntimeModule.SageMakerRuntimeClient>;
  autoScaling: LoadedService<typeof AutoScalingModule, AutoScalingModule.ApplicationAutoScalingClient>;
  cloudWatch: LoadedService<typeof CloudWatchModule, CloudWatchModule.CloudWatchClient>;
  logs: LoadedService<typeof LogsModule, LogsModule.CloudWatchLogsClient>;
  s3: LoadedService<typeof S3Module, S3Module.S3Client>;
}

export type AwsServiceName = keyof AwsServices;

const serviceTitles: Record<AwsServiceName, string> = {
  sageMaker: 'SageMaker',
  runtime: 'SageMaker Runtime',
  autoScaling: 'Application Auto Scaling',
  cloudWatch: 'CloudWatch',
  logs: 'CloudWatch Logs',
  s3: 'S3',
};

/**
 * Calls AWS: lazily loaded clients, one attempt per request (the SDK's own retry is off unless the
 * `maxAttempts` setting asks for it), errors classified as MlscaleErrors with `retryable` set. Nothing
 * here retries: the client's retry policy (`createMlscale({ retry })`) is the one retry layer.
 */
export interface AwsCaller {
  call<Name extends AwsServiceName, Output>(
    service: Name,
    operation: string,
    run: (loaded: AwsServices[Name], abortSignal: AbortSignal | undefined) => Promise<Output>,
    signal?: AbortSignal,
  ): Promise<Output>;
  /**
   * The items of a list operation, page by page through the SDK's own paginator (`paginate` makes it,
   * with `stopOnSameToken`), stopping at a repeated token; each page's failure classified as `call`'s.
   */
  items<Name extends AwsServiceName, Page, Item>(
    service: Name,
    operation: string,
    paginate: (loaded: AwsServices[Name], abortSignal: AbortSignal | undefined) => AsyncIterable<Page>,
    read: (page: Page) => { items: readonly Item[] | undefined; nextToken?: string | null | undefined },
    signal?: AbortSignal,
  ): AsyncGenerator<Item>;
  /** Like `call`, but resolves `undefined` for a NotFound answer. */
  find<Name extends AwsServiceName, Output>(
    service: Name,
    operation: string,
    run: (loaded: AwsServices[Name], abortSignal: AbortSignal | undefined) => Promise<Output>,
    signal?: AbortSignal,
  ): Promise<Output | undefined>;
  /** The region the clients use. */
  region(): Promise<string>;
  destroy(): void;
}

/** Creates the caller; SDK packages are imported on first use only. */
export function createAwsCaller(settings: ResolvedSageMakerSettings): AwsCaller {
  const loaded = new Map<AwsServiceName, Promise<AwsServices[AwsServiceName]>>();
  const common = () => ({
    ...(settings.region ? { region: settings.region } : {}),
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    ...(settings.credentials ? { credentials: settings.credentials } : {}),
    // One attempt: the client's retry policy is the one retry layer. A `maxAttempts` setting adds to it.
    maxAttempts: settings.maxAttempts ?? 1,
  });

  async function create(name: AwsServiceName): Promise<AwsServices[AwsServiceName]> {
    const given = settings.clients;
    switch (name) {
      case 'sageMaker': {
        const module = await import('@aws-sdk/client-sagemaker');
        return { module, client: given?.sageMaker ?? new module.SageMakerClient(common()) };
      }
      case 'runtime': {
        const module = await import('@aws-sdk/client-sagemaker-runtime');
        return { module, client: given?.runtime ?? new module.SageMakerRuntimeClient(common()) };
      }
      case 'autoScaling': {
        const module = await import('@aws-sdk/client-application-auto-scaling');
        return {
          module,
          client: given?.applicationAutoScaling ?? new module.ApplicationAutoScalingClient(common()),
        };
      }
      case 'cloudWatch': {
        const module = await import('@aws-sdk/client-cloudwatch');
        return { module, client: given?.cloudWatch ?? new module.CloudWatchClient(common()) };
      }
      case 'logs': {
        const module = await import('@aws-sdk/client-cloudwatch-logs');
        return { module, client: given?.cloudWatchLogs ?? new module.CloudWatchLogsClient(common()) };
      }
      case 's3': {
        const module = await import('@aws-sdk/client-s3');
        const endpoint = settings.s3Endpoint ?? settings.endpoint;
        return {
          module,
          client:
            given?.s3 ??
            new module.S3Client({
              ...common(),
              ...(endpoint ? { endpoint } : {}),
              forcePathStyle: settings.s3ForcePathStyle ?? Boolean(settings.s3Endpoint),
              // Test servers such as s3rver predate the SDK's default CRC checksums.
              ...(settings.s3Endpoint ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const } : {}),
            }),
        };
      }
    }
  }

  function load<Name extends AwsServiceName>(name: Name): Promise<AwsServices[Name]> {
    let promise = loaded.get(name);
    if (!promise) {
      promise = create(name);
      loaded.set(name, promise);
    }
    return promise as Promise<AwsServices[Name]>;
  }

  const caller: AwsCaller = {
    async call(service, operation, run, signal) {
      const services = await load(service);
      const what = `${serviceTitles[service]} ${operation}`;
      return cloudCall(
        { what, signal, classify: (error) => fromAwsError(error, serviceTitles[service], operation) },
        (abortSignal) => run(services, abortSignal),
      );
    },
    async *items(service, operation, paginate, read, signal) {
      const services = await load(service);
      const what = `${serviceTitles[service]} ${operation}`;
      const classify = (error: unknown) => fromAwsError(error, serviceTitles[service], operation);
      const pages = itemsOfPages(paginate(services, signal), read);
      try {
        for (;;) {
          const next = await cloudCall({ what, signal, classify }, () => pages.next());
          if (next.done) return;
          yield next.value;
        }
      } finally {
        // A consumer that stops early (break, an abort) ends the SDK's paginator too.
        await pages.return(undefined);
      }
    },
    async find(service, operation, run, signal) {
      try {
        return await caller.call(service, operation, run, signal);
      } catch (error) {
        if (MlscaleError.hasCode(error, 'NotFound')) return undefined;
        throw error;
      }
    },
    async region() {
      const { client } = await load('sageMaker');
      return client.config.region();
    },
    destroy() {
      for (const [name, promise] of loaded) {
        const given =
          settings.clients?.[
            name === 'autoScaling' ? 'applicationAutoScaling' : name === 'logs' ? 'cloudWatchLogs' : name
          ];
        if (given) continue;
        promise.then((service) => service.client.destroy()).catch(() => {});
      }
      loaded.clear();
    },
  };
  return caller;
}
