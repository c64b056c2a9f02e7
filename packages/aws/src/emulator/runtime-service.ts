import { totalmem } from 'node:os';
import { cpuUsage, memoryUsage } from 'node:process';
import { AwsServiceError } from './aws-service-error.js';
import {
  appendLog,
  type EmulatorContext,
  type EndpointRecord,
  instanceId,
  recordMetric,
  stringField,
} from './emulator-context.js';
import type { InvocationResult } from './predictors.js';
import { modelImage } from './sagemaker-service.js';

/** InvokeEndpoint's 6 MiB payload limit. */
const maximumBodyBytes = 6 * 1024 * 1024;

/** What the runtime answers: status, headers and body. */
export interface RuntimeResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Smooth weighted round robin per endpoint, so traffic splits are exact and repeatable. */
const roundRobin = new WeakMap<EndpointRecord, Map<string, number>>();

function chooseVariant(endpoint: EndpointRecord, requested: string | undefined) {
  if (requested) {
    const variant = endpoint.variants.find((candidate) => candidate.VariantName === requested);
    if (!variant)
      throw new AwsServiceError(
        'ValidationError',
        `Variant ${requested} not found for endpoint ${endpoint.EndpointName}.`,
      );
    return variant;
  }
  const live = endpoint.variants.filter((variant) => variant.CurrentWeight > 0);
  if (live.length <= 1) return live[0] ?? endpoint.variants[0]!;
  const credits = roundRobin.get(endpoint) ?? new Map<string, number>();
  roundRobin.set(endpoint, credits);
  const total = live.reduce((sum, variant) => sum + variant.CurrentWeight, 0);
  let best = live[0]!;
  for (const variant of live) {
    credits.set(variant.VariantName, (credits.get(variant.VariantName) ?? 0) + variant.CurrentWeight);
    if (credits.get(variant.VariantName)! > credits.get(best.VariantName)!) best = variant;
  }
  credits.set(best.VariantName, credits.get(best.VariantName)! - total);
  return best;
}

let lastCpu = cpuUsage();
let lastCpuAt = Date.now();

/** This process's CPU share since the last sample, in percent: the emulator's stand-in for an instance's. */
function cpuPercent(): number {
  const now = Date.now();
  const usage = cpuUsage(lastCpu);
  const elapsedMicroseconds = Math.max(1, (now - lastCpuAt) * 1000);
  lastCpu = cpuUsage();
  lastCpuAt = now;
  return Math.min(100, ((usage.user + usage.system) / elapsedMicroseconds) * 100);
}

/** POST /endpoints/{EndpointName}/invocations: routes to a variant, runs the predictor, records metrics and a log line. */
export async function invokeEndpoint(
  context: EmulatorContext,
  endpointName: string,
  headers: Record<string, string | undefined>,
  body: Buffer,
): Promise<RuntimeResponse> {
  const endpoint = context.endpoints.get(endpointName);
  if (!endpoint) {
    throw new AwsServiceError(
      'ValidationError',
      `Endpoint ${endpointName} of account ${context.accountId} not found.`,
    );
  }
  if (endpoint.EndpointStatus !== 'InService' && endpoint.EndpointStatus !== 'Updating') {
    throw new AwsServiceError(
      'ValidationError',
      `Endpoint ${endpointName} is not in service (status ${endpoint.EndpointStatus}).`,
    );
  }
  if (body.length > maximumBodyBytes) {
    throw new AwsServiceError(
      'ValidationError',
      `Request body of ${body.length} bytes exceeds the 6 MiB limit of InvokeEndpoint.`,
    );
  }
  const variant = chooseVariant(endpoint, headers['x-amzn-sagemaker-target-variant']);
  const model = context.models.get(variant.ModelName);
  const container = (model?.PrimaryContainer ?? {}) as Record<string, unknown>;
  const contentType = headers['content-type'] ?? 'application/octet-stream';
  const started = process.hrtime.bigint();
  let result: InvocationResult;
  let failure: string | undefined;
  try {
    const image = modelImage(model);
    const modelDataUrl = stringField(container, 'ModelDataUrl');
    result = await context.predictor({
      endpointName,
      variantName: variant.VariantName,
      modelName: variant.ModelName,
      ...(image ? { image } : {}),
      ...(modelDataUrl ? { modelDataUrl } : {}),
      environment: (container.Environment ?? {}) as Record<string, string>,
      body,
      contentType,
      ...(headers.accept ? { accept: headers.accept } : {}),
      ...(headers['x-amzn-sagemaker-custom-attributes']
        ? { customAttributes: headers['x-amzn-sagemaker-custom-attributes'] }
        : {}),
    });
  } catch (error) {
    failure = error instanceof Error ? error.message : String(error);
    result = { statusCode: 500, body: failure };
  }
  const latencyMicroseconds = Number(process.hrtime.bigint() - started) / 1000;
  const statusCode = result.statusCode ?? 200;
  const dimensions = { EndpointName: endpointName, VariantName: variant.VariantName };
  const instances = variant.CurrentInstanceCount ?? 1;
  recordMetric(context, 'AWS/SageMaker', 'Invocations', dimensions, 1, 'None');
  recordMetric(
    context,
    'AWS/SageMaker',
    'InvocationsPerInstance',
    dimensions,
    1 / Math.max(1, instances),
    'None',
  );
  recordMetric(
    context,
    'AWS/SageMaker',
    'Invocation4XXErrors',
    dimensions,
    statusCode >= 400 && statusCode < 500 ? 1 : 0,
    'None',
  );
  recordMetric(
    context,
    'AWS/SageMaker',
    'Invocation5XXErrors',
    dimensions,
    statusCode >= 500 ? 1 : 0,
    'None',
  );
  recordMetric(context, 'AWS/SageMaker', 'ModelLatency', dimensions, latencyMicroseconds, 'Microseconds');
  recordMetric(context, 'AWS/SageMaker', 'OverheadLatency', dimensions, 150, 'Microseconds');
  recordMetric(context, '/aws/sagemaker/Endpoints', 'CPUUtilization', dimensions, cpuPercent(), 'Percent');
  recordMetric(
    context,
    '/aws/sagemaker/Endpoints',
    'MemoryUtilization',
    dimensions,
    (memoryUsage().rss / totalmem()) * 100,
    'Percent',
  );
  let id = endpoint.instanceIds.get(variant.VariantName);
  if (!id) {
    id = instanceId();
    endpoint.instanceIds.set(variant.VariantName, id);
  }
  const stream = `${variant.VariantName}/${id}`;
  appendLog(
    context,
    `/aws/sagemaker/Endpoints/${endpointName}`,
    stream,
    `POST /invocations ${statusCode} ${(latencyMicroseconds / 1000).toFixed(2)}ms content-type=${contentType}`,
  );
  const responseBody = Buffer.isBuffer(result.body) ? result.body : Buffer.from(result.body);
  if (statusCode >= 400) {
    throw new AwsServiceError(
      'ModelError',
      `Received client error (${statusCode}) from primary with message "${responseBody.toString('utf8').slice(0, 1024)}". See https://${context.region}.console.aws.amazon.com/cloudwatch/home?region=${context.region}#logEventViewer:group=/aws/sagemaker/Endpoints/${endpointName} in account ${context.accountId} for more information.`,
      424,
      {
        OriginalStatusCode: statusCode,
        OriginalMessage: responseBody.toString('utf8').slice(0, 1024),
        LogStreamArn: context.arn('logs', `log-group:/aws/sagemaker/Endpoints/${endpointName}`),
      },
    );
  }
  return {
    status: 200,
    headers: {
      'content-type': result.contentType ?? 'application/json',
      'x-amzn-invoked-production-variant': variant.VariantName,
      ...(result.customAttributes ? { 'x-amzn-sagemaker-custom-attributes': result.customAttributes } : {}),
    },
    body: responseBody,
  };
}
