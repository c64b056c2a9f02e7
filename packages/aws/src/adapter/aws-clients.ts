import type * as AutoScalingModule from '@aws-sdk/client-application-auto-scaling';
import type * as CloudWatchModule from '@aws-sdk/client-cloudwatch';
import type * as LogsModule from '@aws-sdk/client-cloudwatch-logs';
import type * as S3Module from '@aws-sdk/client-s3';
import type * as SageMakerModule from '@aws-sdk/client-sagemaker';
import type * as RuntimeModule from '@aws-sdk/client-sagemaker-runtime';
import { abortedError, MlscaleError, withRetry } from '@mlscale/core';
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

/** Calls AWS: lazily loaded clients, errors as MlscaleErrors, throttling retried. */
export interface AwsCaller {
  call<Name extends AwsServiceName, Output>(
    service: Name,
    operation: string,
    run: (loaded: AwsServices[Name], abortSignal: AbortSignal | undefined) => Promise<Output>,
    signal?: AbortSignal,
  ): Promise<Output>;
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
    ...(settings.maxAttempts ? { maxAttempts: settings.maxAttempts } : {}),
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
      const attempt = async () => {
        if (signal?.aborted) throw abortedError(signal, `${serviceTitles[service]} ${operation}`);
        try {
          return await run(services, signal);
        } catch (error) {
          if (signal?.aborted) throw abortedError(signal, `${serviceTitles[service]} ${operation}`);
          throw fromAwsError(error, serviceTitles[service], operation);
        }
      };
      if (settings.retry === false) return attempt();
      return withRetry(attempt, {
        ...settings.retry,
        ...(signal ? { signal } : {}),
        // The SDK already retried 5xx and timeouts; what still fails throttled is worth waiting out.
        isRetryable: (error) => MlscaleError.hasCode(error, 'Throttled'),
      });
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
