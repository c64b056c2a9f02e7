import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { AwsEmulatorOptions } from './emulator-options.js';
import { type AwsEmulator, startAwsEmulator } from './start-aws-emulator.js';

/*
 * For the emulator's tests: an emulator and the official SDK clients pointed at it, with the SDK's
 * retries off so every refusal reaches the test as the emulator answered it.
 */

export const testRoleArn = 'arn:aws:iam::123456789012:role/emulator-test';
export const testImage = '123456789012.dkr.ecr.us-east-1.amazonaws.com/model-server:1';

export interface EmulatorWithClients {
  emulator: AwsEmulator;
  sageMaker: SageMakerClient;
  autoScaling: ApplicationAutoScalingClient;
  cloudWatch: CloudWatchClient;
  logs: CloudWatchLogsClient;
  runtime: SageMakerRuntimeClient;
  close(): Promise<void>;
}

export async function startEmulatorWithClients(
  options: AwsEmulatorOptions = {},
): Promise<EmulatorWithClients> {
  const emulator = await startAwsEmulator(options);
  const config = {
    region: 'us-east-1',
    endpoint: emulator.url,
    credentials: { accessKeyId: 'AKIAEMULATORTEST0001', secretAccessKey: 'emulator-test-secret' },
    maxAttempts: 1,
  };
  const clients = {
    sageMaker: new SageMakerClient(config),
    autoScaling: new ApplicationAutoScalingClient(config),
    cloudWatch: new CloudWatchClient(config),
    logs: new CloudWatchLogsClient(config),
    runtime: new SageMakerRuntimeClient(config),
  };
  return {
    emulator,
    ...clients,
    async close() {
      for (const client of Object.values(clients)) client.destroy();
      await emulator.close();
    },
  };
}

/** The error a promise rejects with (or undefined when it resolves), for asserting on refusals. */
export function refusal(promise: Promise<unknown>): Promise<
  | (Error & {
      name: string;
      $metadata?: { httpStatusCode?: number };
      Code?: string;
    })
  | undefined
> {
  return promise.then(
    () => undefined,
    (error: unknown) => error as Error & { name: string },
  );
}

/** A variant of an endpoint config to create. */
export interface TestVariant {
  VariantName: string;
  InstanceType?: string;
  InitialInstanceCount?: number;
  /** The model's image; variants of one config share nothing. */
  image?: string;
}

/** Creates a model per variant and an endpoint config over them. */
export async function createEndpointConfig(
  clients: EmulatorWithClients,
  configName: string,
  variants: TestVariant[],
): Promise<void> {
  for (const variant of variants) {
    await clients.sageMaker.send(
      new CreateModelCommand({
        ModelName: `${configName}-${variant.VariantName}`,
        ExecutionRoleArn: testRoleArn,
        PrimaryContainer: { Image: variant.image ?? testImage },
      }),
    );
  }
  await clients.sageMaker.send(
    new CreateEndpointConfigCommand({
      EndpointConfigName: configName,
      ProductionVariants: variants.map((variant) => ({
        VariantName: variant.VariantName,
        ModelName: `${configName}-${variant.VariantName}`,
        InstanceType: (variant.InstanceType ?? 'ml.m5.large') as never,
        InitialInstanceCount: variant.InitialInstanceCount ?? 1,
      })),
    }),
  );
}

/** Creates an endpoint on `configName` and waits until it is InService. */
export async function createEndpoint(
  clients: EmulatorWithClients,
  name: string,
  configName: string,
): Promise<void> {
  await clients.sageMaker.send(
    new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: configName }),
  );
  await waitForStatus(clients, name, 'InService');
}

/** Polls DescribeEndpoint until the endpoint reaches `status` (the emulator's fast delays: tens of ms). */
export async function waitForStatus(
  clients: EmulatorWithClients,
  name: string,
  status: string,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const described = await clients.sageMaker.send(new DescribeEndpointCommand({ EndpointName: name }));
    if (described.EndpointStatus === status) return;
    if (Date.now() > deadline) {
      throw new Error(`Endpoint ${name} is ${described.EndpointStatus}, expected ${status}.`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
