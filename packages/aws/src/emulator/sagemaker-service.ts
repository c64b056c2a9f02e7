import { AwsServiceError, couldNotFind, invalidField } from './aws-service-error.js';
import { evaluateAlarm } from './cloudwatch-service.js';
import {
  checkDeploymentPlan,
  checkVariantNamesKept,
  parseDeploymentConfig,
} from './deployment-config-rules.js';
import {
  appendLog,
  type EmulatorContext,
  type EndpointRecord,
  epochSeconds,
  instanceId,
  type JsonObject,
  stringField,
  type VariantState,
} from './emulator-context.js';
import { listItems } from './list-request.js';
import { paginate } from './pagination.js';

/** SageMaker resource names: `^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`. */
const namePattern = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

type Handler = (context: EmulatorContext, input: JsonObject) => JsonObject;

function requireName(input: JsonObject, field: string): string {
  const value = stringField(input, field);
  if (!value) throw invalidField(field, 'Member must not be null');
  if (!namePattern.test(value)) {
    throw invalidField(
      field,
      'Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}',
    );
  }
  return value;
}

function putTags(context: EmulatorContext, arn: string, tags: unknown): void {
  if (tags === undefined) return;
  if (!Array.isArray(tags)) throw invalidField('Tags', 'Member must be a list');
  const existing = context.tags.get(arn) ?? new Map<string, string>();
  for (const tag of tags as JsonObject[]) {
    const key = stringField(tag, 'Key');
    if (!key) throw invalidField('Tags.member.Key', 'Member must not be null');
    existing.set(key, stringField(tag, 'Value') ?? '');
  }
  if (existing.size > 50) throw invalidField('Tags', 'Member must have length less than or equal to 50');
  context.tags.set(arn, existing);
}

/** The image of a model's primary (or first) container. */
export function modelImage(model: JsonObject | undefined): string | undefined {
  if (!model) return undefined;
  const container = (model.PrimaryContainer ?? (model.Containers as JsonObject[] | undefined)?.[0]) as
    | JsonObject
    | undefined;
  return container ? stringField(container, 'Image') : undefined;
}

/** Why an endpoint on this config cannot start, if a fault or a bad image says so. */
function failureFor(context: EmulatorContext, endpointName: string, config: JsonObject): string | undefined {
  const faultIndex = context.faults.findIndex(
    (fault) => fault.kind === 'failEndpoint' && fault.endpointName === endpointName,
  );
  if (faultIndex >= 0) {
    const [fault] = context.faults.splice(faultIndex, 1);
    return (
      (fault?.kind === 'failEndpoint' ? fault.reason : undefined) ??
      'The primary container for production variant AllTraffic did not pass the ping health check. Please check CloudWatch logs for this endpoint.'
    );
  }
  for (const variant of (config.ProductionVariants as JsonObject[]) ?? []) {
    const image = modelImage(context.models.get(String(variant.ModelName)));
    if (image && context.badImages.has(image)) {
      return `Failed to download the image "${image}" for production variant ${String(variant.VariantName)}. Please ensure that the image exists and the execution role has permission to pull it.`;
    }
  }
  return undefined;
}

function variantsFromConfig(config: JsonObject): VariantState[] {
  return ((config.ProductionVariants as JsonObject[]) ?? []).map((variant) => {
    const serverless = variant.ServerlessConfig as JsonObject | undefined;
    const weight = typeof variant.InitialVariantWeight === 'number' ? variant.InitialVariantWeight : 1;
    return {
      VariantName: String(variant.VariantName),
      ModelName: String(variant.ModelName),
      ...(typeof variant.InstanceType === 'string' ? { InstanceType: variant.InstanceType } : {}),
      CurrentWeight: weight,
      DesiredWeight: weight,
      ...(serverless
        ? { ServerlessConfig: serverless }
        : {
            CurrentInstanceCount: 0,
            DesiredInstanceCount: Number(variant.InitialInstanceCount ?? 1),
          }),
    };
  });
}

function endpointLogGroup(name: string): string {
  return `/aws/sagemaker/Endpoints/${name}`;
}

/** Writes the lines a model server prints when an endpoint's instances start. */
function logStartup(context: EmulatorContext, endpoint: EndpointRecord, time: number): void {
  for (const variant of endpoint.variants) {
    let id = endpoint.instanceIds.get(variant.VariantName);
    if (!id) {
      id = instanceId();
      endpoint.instanceIds.set(variant.VariantName, id);
    }
    const model = context.models.get(variant.ModelName);
    const container = (model?.PrimaryContainer ?? {}) as JsonObject;
    const stream = `${variant.VariantName}/${id}`;
    appendLog(
      context,
      endpointLogGroup(endpoint.EndpointName),
      stream,
      `Starting model server (image ${modelImage(model) ?? 'unknown'})`,
      time,
    );
    appendLog(
      context,
      endpointLogGroup(endpoint.EndpointName),
      stream,
      `Loading model from ${stringField(container, 'ModelDataUrl') ?? '(image only)'}`,
      time,
    );
    appendLog(
      context,
      endpointLogGroup(endpoint.EndpointName),
      stream,
      'Model server ready: GET /ping answers 200',
      time,
    );
  }
}

function settle(endpoint: EndpointRecord, time: number): void {
  for (const variant of endpoint.variants) {
    variant.CurrentWeight = variant.DesiredWeight;
    if (variant.DesiredInstanceCount !== undefined)
      variant.CurrentInstanceCount = variant.DesiredInstanceCount;
  }
  endpoint.EndpointStatus = 'InService';
  endpoint.LastModifiedTime = time;
}

function requireEndpoint(context: EmulatorContext, name: unknown): EndpointRecord {
  const endpoint = typeof name === 'string' ? context.endpoints.get(name) : undefined;
  if (!endpoint) throw couldNotFind('endpoint', String(name));
  return endpoint;
}

function requireConfig(context: EmulatorContext, name: unknown) {
  const config = typeof name === 'string' ? context.endpointConfigs.get(name) : undefined;
  if (!config) throw couldNotFind('endpoint configuration', String(name));
  return config;
}

/** Endpoint statuses, as ListEndpoints' StatusEquals accepts them. */
const endpointStatuses = [
  'OutOfService',
  'Creating',
  'Updating',
  'SystemUpdating',
  'RollingBack',
  'InService',
  'Deleting',
  'Failed',
  'UpdateRollbackFailed',
] as const;

/**
 * UpdateEndpoint and UpdateEndpointWeightsAndCapacities act only on an InService endpoint. A busy one
 * answers SageMaker's "Cannot update in-progress endpoint"; a Failed one can only be deleted (the
 * wording of that refusal is in SageMaker's style, not confirmed).
 */
function requireUpdatable(endpoint: EndpointRecord): void {
  if (endpoint.EndpointStatus === 'InService') return;
  if (endpoint.EndpointStatus === 'Failed') {
    throw new AwsServiceError(
      'ValidationException',
      `Cannot update failed endpoint "${endpoint.EndpointArn}". A failed endpoint can only be deleted.`,
    );
  }
  throw new AwsServiceError(
    'ValidationException',
    `Cannot update in-progress endpoint "${endpoint.EndpointArn}".`,
  );
}

/** The variant names of an endpoint that are registered as Application Auto Scaling targets. */
function scaledVariants(context: EmulatorContext, endpointName: string): string[] {
  const prefix = `endpoint/${endpointName}/variant/`;
  return [...context.scalableTargets.values()]
    .filter((target) => target.ServiceNamespace === 'sagemaker' && target.ResourceId.startsWith(prefix))
    .map((target) => target.ResourceId.slice(prefix.length));
}

/**
 * "Update endpoints that use auto scaling" (SageMaker developer guide): an update that would change the
 * instance type of a variant registered for auto scaling, or remove such a variant, fails; changing only
 * its model is allowed. The message is in SageMaker's style, not confirmed.
 */
function checkScaledVariants(context: EmulatorContext, endpoint: EndpointRecord, config: JsonObject): void {
  const next = (config.ProductionVariants as JsonObject[] | undefined) ?? [];
  const removed: string[] = [];
  const retyped: string[] = [];
  for (const name of scaledVariants(context, endpoint.EndpointName)) {
    const current = endpoint.variants.find((variant) => variant.VariantName === name);
    const replacement = next.find((variant) => variant.VariantName === name);
    if (!replacement) removed.push(name);
    else if (current && stringField(replacement, 'InstanceType') !== current.InstanceType) retyped.push(name);
  }
  if (removed.length === 0 && retyped.length === 0) return;
  const problems = [
    ...(retyped.length ? [`would change the instance type of variant(s) [${retyped.join(', ')}]`] : []),
    ...(removed.length ? [`would remove variant(s) [${removed.join(', ')}]`] : []),
  ];
  throw new AwsServiceError(
    'ValidationException',
    `The update of endpoint "${endpoint.EndpointArn}" ${problems.join(' and ')}, which are registered as scalable targets with Application Auto Scaling. Delete their scaling policies and deregister them (DeregisterScalableTarget) before updating the endpoint, then register them again.`,
  );
}

/**
 * Deleting an endpoint deregisters its variants' scalable targets (and their policies) without notice,
 * as "Delete endpoints configured for auto scaling" documents.
 */
function deregisterScaledVariants(context: EmulatorContext, endpointName: string): void {
  const prefix = `sagemaker|endpoint/${endpointName}/variant/`;
  for (const key of [...context.scalableTargets.keys()]) {
    if (key.startsWith(prefix)) context.scalableTargets.delete(key);
  }
  for (const [key, policy] of [...context.scalingPolicies]) {
    if (!key.startsWith(prefix)) continue;
    for (const alarm of policy.Alarms) context.alarms.delete(alarm.AlarmName);
    context.scalingPolicies.delete(key);
  }
}

/**
 * Starts a scaling change on an endpoint (Updating → InService), as UpdateEndpointWeightsAndCapacities
 * and Application Auto Scaling's scaling activities do.
 */
export function startCapacityChange(
  context: EmulatorContext,
  endpoint: EndpointRecord,
  changes: { VariantName: string; DesiredWeight?: number; DesiredInstanceCount?: number }[],
): void {
  for (const change of changes) {
    const variant = endpoint.variants.find((candidate) => candidate.VariantName === change.VariantName);
    if (!variant) continue;
    if (change.DesiredWeight !== undefined) variant.DesiredWeight = change.DesiredWeight;
    if (change.DesiredInstanceCount !== undefined) variant.DesiredInstanceCount = change.DesiredInstanceCount;
  }
  endpoint.EndpointStatus = 'Updating';
  endpoint.LastModifiedTime = context.now();
  const generation = ++endpoint.generation;
  context.scheduler.after(context.delays.endpointUpdateMs, (time) => {
    if (endpoint.generation !== generation || context.endpoints.get(endpoint.EndpointName) !== endpoint)
      return;
    settle(endpoint, time);
  });
}

function describeVariant(
  context: EmulatorContext,
  endpoint: EndpointRecord,
  variant: VariantState,
): JsonObject {
  const image = modelImage(context.models.get(variant.ModelName));
  return {
    VariantName: variant.VariantName,
    ...(image
      ? {
          DeployedImages: [
            {
              SpecifiedImage: image,
              ResolvedImage: image,
              ResolutionTime: epochSeconds(endpoint.CreationTime),
            },
          ],
        }
      : {}),
    CurrentWeight: variant.CurrentWeight,
    DesiredWeight: variant.DesiredWeight,
    ...(variant.ServerlessConfig
      ? {
          CurrentServerlessConfig: variant.ServerlessConfig,
          DesiredServerlessConfig: variant.ServerlessConfig,
        }
      : {
          CurrentInstanceCount: variant.CurrentInstanceCount,
          DesiredInstanceCount: variant.DesiredInstanceCount,
        }),
  };
}

const handlers: Record<string, Handler> = {
  CreateModel(context, input) {
    const name = requireName(input, 'ModelName');
    if (!stringField(input, 'ExecutionRoleArn'))
      throw invalidField('ExecutionRoleArn', 'Member must not be null');
    if (!input.PrimaryContainer && !input.Containers) {
      throw new AwsServiceError(
        'ValidationException',
        'Either PrimaryContainer or Containers must be specified.',
      );
    }
    const existing = context.models.get(name);
    if (existing) {
      throw new AwsServiceError(
        'ValidationException',
        `Cannot create already existing model "${existing.ModelArn}".`,
      );
    }
    const ModelArn = context.arn('sagemaker', `model/${name.toLowerCase()}`);
    context.models.set(name, { ...input, ModelName: name, ModelArn, CreationTime: context.now() });
    putTags(context, ModelArn, input.Tags);
    return { ModelArn };
  },

  DescribeModel(context, input) {
    const name = stringField(input, 'ModelName') ?? '';
    const model = context.models.get(name);
    if (!model) throw couldNotFind('model', name);
    const { Tags: _tags, CreationTime, ...rest } = model;
    return { ...rest, CreationTime: epochSeconds(CreationTime) };
  },

  DeleteModel(context, input) {
    const name = stringField(input, 'ModelName') ?? '';
    const model = context.models.get(name);
    if (!model) throw couldNotFind('model', name);
    context.models.delete(name);
    context.tags.delete(model.ModelArn);
    return {};
  },

  ListModels(context, input) {
    const models = [...context.models.values()].map((model) => ({
      ...model,
      name: model.ModelName,
      creationTime: model.CreationTime,
    }));
    const items = listItems(input, models, { sortKeys: ['Name', 'CreationTime'] }).map((model) => ({
      ModelName: model.ModelName,
      ModelArn: model.ModelArn,
      CreationTime: epochSeconds(model.CreationTime),
    }));
    const { page, nextToken } = paginate(items, input.NextToken, input.MaxResults, 10);
    return { Models: page, ...(nextToken ? { NextToken: nextToken } : {}) };
  },

  CreateEndpointConfig(context, input) {
    const name = requireName(input, 'EndpointConfigName');
    const variants = input.ProductionVariants;
    if (!Array.isArray(variants) || variants.length === 0) {
      throw invalidField('ProductionVariants', 'Member must have length greater than or equal to 1');
    }
    for (const [index, variant] of (variants as JsonObject[]).entries()) {
      requireName(variant, 'VariantName');
      const modelName = stringField(variant, 'ModelName');
      if (!modelName || !context.models.has(modelName)) throw couldNotFind('model', String(modelName));
      const serverless = variant.ServerlessConfig as JsonObject | undefined;
      if (serverless) {
        const memory = Number(serverless.MemorySizeInMB);
        if (![1024, 2048, 3072, 4096, 5120, 6144].includes(memory)) {
          throw invalidField(
            `ProductionVariants.${index + 1}.member.ServerlessConfig.MemorySizeInMB`,
            'Member must be one of 1024, 2048, 3072, 4096, 5120, 6144',
          );
        }
      } else if (!stringField(variant, 'InstanceType')) {
        throw new AwsServiceError(
          'ValidationException',
          `InstanceType is required for production variant ${String(variant.VariantName)} unless ServerlessConfig is given.`,
        );
      }
    }
    const existing = context.endpointConfigs.get(name);
    if (existing) {
      throw new AwsServiceError(
        'ValidationException',
        `Cannot create already existing endpoint configuration "${existing.EndpointConfigArn}".`,
      );
    }
    const EndpointConfigArn = context.arn('sagemaker', `endpoint-config/${name.toLowerCase()}`);
    context.endpointConfigs.set(name, {
      ...input,
      EndpointConfigName: name,
      EndpointConfigArn,
      CreationTime: context.now(),
    });
    putTags(context, EndpointConfigArn, input.Tags);
    return { EndpointConfigArn };
  },

  DescribeEndpointConfig(context, input) {
    const config = requireConfig(context, input.EndpointConfigName);
    const { Tags: _tags, CreationTime, ...rest } = config;
    return { ...rest, CreationTime: epochSeconds(CreationTime) };
  },

  DeleteEndpointConfig(context, input) {
    const config = requireConfig(context, input.EndpointConfigName);
    context.endpointConfigs.delete(config.EndpointConfigName);
    context.tags.delete(config.EndpointConfigArn);
    return {};
  },

  ListEndpointConfigs(context, input) {
    const configs = [...context.endpointConfigs.values()].map((config) => ({
      ...config,
      name: config.EndpointConfigName,
      creationTime: config.CreationTime,
    }));
    const items = listItems(input, configs, { sortKeys: ['Name', 'CreationTime'] }).map((config) => ({
      EndpointConfigName: config.EndpointConfigName,
      EndpointConfigArn: config.EndpointConfigArn,
      CreationTime: epochSeconds(config.CreationTime),
    }));
    const { page, nextToken } = paginate(items, input.NextToken, input.MaxResults, 10);
    return { EndpointConfigs: page, ...(nextToken ? { NextToken: nextToken } : {}) };
  },

  CreateEndpoint(context, input) {
    const name = requireName(input, 'EndpointName');
    const config = requireConfig(context, input.EndpointConfigName);
    const existing = context.endpoints.get(name);
    if (existing) {
      throw new AwsServiceError(
        'ValidationException',
        `Cannot create already existing endpoint "${existing.EndpointArn}".`,
      );
    }
    const now = context.now();
    const endpoint: EndpointRecord = {
      EndpointName: name,
      EndpointArn: context.arn('sagemaker', `endpoint/${name.toLowerCase()}`),
      EndpointConfigName: config.EndpointConfigName,
      EndpointStatus: 'Creating',
      CreationTime: now,
      LastModifiedTime: now,
      variants: variantsFromConfig(config),
      generation: 0,
      instanceIds: new Map(),
    };
    context.endpoints.set(name, endpoint);
    putTags(context, endpoint.EndpointArn, input.Tags);
    const failure = failureFor(context, name, config);
    const generation = endpoint.generation;
    context.scheduler.after(context.delays.endpointCreateMs, (time) => {
      if (endpoint.generation !== generation || context.endpoints.get(name) !== endpoint) return;
      endpoint.generation++;
      if (failure) {
        endpoint.EndpointStatus = 'Failed';
        endpoint.FailureReason = failure;
        endpoint.LastModifiedTime = time;
        appendLog(
          context,
          endpointLogGroup(name),
          `${endpoint.variants[0]?.VariantName ?? 'AllTraffic'}/${instanceId()}`,
          `Endpoint failed: ${failure}`,
          time,
        );
        return;
      }
      logStartup(context, endpoint, time);
      settle(endpoint, time);
    });
    return { EndpointArn: endpoint.EndpointArn };
  },

  DescribeEndpoint(context, input) {
    const endpoint = requireEndpoint(context, input.EndpointName);
    const config = context.endpointConfigs.get(endpoint.EndpointConfigName);
    return {
      EndpointName: endpoint.EndpointName,
      EndpointArn: endpoint.EndpointArn,
      EndpointConfigName: endpoint.EndpointConfigName,
      ProductionVariants: endpoint.variants.map((variant) => describeVariant(context, endpoint, variant)),
      ...(config?.DataCaptureConfig
        ? {
            DataCaptureConfig: {
              EnableCapture: true,
              CaptureStatus: 'Started',
              ...(config.DataCaptureConfig as JsonObject),
            },
          }
        : {}),
      EndpointStatus: endpoint.EndpointStatus,
      ...(endpoint.FailureReason ? { FailureReason: endpoint.FailureReason } : {}),
      CreationTime: epochSeconds(endpoint.CreationTime),
      LastModifiedTime: epochSeconds(endpoint.LastModifiedTime),
      ...(endpoint.LastDeploymentConfig ? { LastDeploymentConfig: endpoint.LastDeploymentConfig } : {}),
    };
  },

  ListEndpoints(context, input) {
    const endpoints = [...context.endpoints.values()].map((endpoint) => ({
      endpoint,
      name: endpoint.EndpointName,
      creationTime: endpoint.CreationTime,
      lastModifiedTime: endpoint.LastModifiedTime,
      status: endpoint.EndpointStatus,
    }));
    const items = listItems(input, endpoints, {
      sortKeys: ['Name', 'CreationTime', 'Status'],
      statuses: endpointStatuses,
    }).map(({ endpoint }) => ({
      EndpointName: endpoint.EndpointName,
      EndpointArn: endpoint.EndpointArn,
      CreationTime: epochSeconds(endpoint.CreationTime),
      LastModifiedTime: epochSeconds(endpoint.LastModifiedTime),
      EndpointStatus: endpoint.EndpointStatus,
    }));
    const { page, nextToken } = paginate(items, input.NextToken, input.MaxResults, 10);
    return { Endpoints: page, ...(nextToken ? { NextToken: nextToken } : {}) };
  },

  UpdateEndpoint(context, input) {
    // Members are validated against their constraints before any resource is looked at.
    const plan = parseDeploymentConfig(input.DeploymentConfig);
    const endpoint = requireEndpoint(context, input.EndpointName);
    const config = requireConfig(context, input.EndpointConfigName);
    requireUpdatable(endpoint);
    checkScaledVariants(context, endpoint, config);
    if (plan) {
      const variants = (config.ProductionVariants as JsonObject[] | undefined) ?? [];
      checkVariantNamesKept(
        endpoint.variants.map((variant) => variant.VariantName),
        variants.map((variant) => String(variant.VariantName)),
      );
      checkDeploymentPlan(
        context,
        plan,
        variants.map((variant) => ({
          VariantName: String(variant.VariantName),
          ...(variant.ServerlessConfig
            ? {}
            : { InitialInstanceCount: Number(variant.InitialInstanceCount ?? 1) }),
        })),
      );
    }
    const previous = {
      configName: endpoint.EndpointConfigName,
      variants: endpoint.variants.map((variant) => ({ ...variant })),
    };
    const deploymentConfig = input.DeploymentConfig as JsonObject | undefined;
    endpoint.EndpointStatus = 'Updating';
    endpoint.LastModifiedTime = context.now();
    delete endpoint.FailureReason;
    const generation = ++endpoint.generation;
    const failure = failureFor(context, endpoint.EndpointName, config);
    context.scheduler.after(context.delays.endpointUpdateMs, (time) => {
      if (endpoint.generation !== generation || context.endpoints.get(endpoint.EndpointName) !== endpoint)
        return;
      endpoint.generation++;
      const alarmNames = (
        ((deploymentConfig?.AutoRollbackConfiguration as JsonObject | undefined)?.Alarms as JsonObject[]) ??
        []
      ).map((alarm) => String(alarm.AlarmName));
      const firing = alarmNames.find((alarmName) => {
        const alarm = context.alarms.get(alarmName);
        return alarm !== undefined && evaluateAlarm(context, alarm).StateValue === 'ALARM';
      });
      if (failure || firing) {
        // SageMaker keeps serving on the old fleet and reports why the update did not take.
        endpoint.EndpointConfigName = previous.configName;
        endpoint.variants = previous.variants;
        endpoint.FailureReason = firing
          ? `Update rolled back: alarm ${firing} went into ALARM during the traffic shift.`
          : `Update failed: ${failure}`;
        settle(endpoint, time);
        return;
      }
      endpoint.EndpointConfigName = config.EndpointConfigName;
      endpoint.variants = variantsFromConfig(config);
      if (deploymentConfig) endpoint.LastDeploymentConfig = deploymentConfig;
      logStartup(context, endpoint, time);
      settle(endpoint, time);
    });
    return { EndpointArn: endpoint.EndpointArn };
  },

  UpdateEndpointWeightsAndCapacities(context, input) {
    const endpoint = requireEndpoint(context, input.EndpointName);
    requireUpdatable(endpoint);
    const desired = input.DesiredWeightsAndCapacities;
    if (!Array.isArray(desired) || desired.length === 0) {
      throw invalidField('DesiredWeightsAndCapacities', 'Member must have length greater than or equal to 1');
    }
    const changes = (desired as JsonObject[]).map((entry) => {
      const variantName = String(entry.VariantName);
      const variant = endpoint.variants.find((candidate) => candidate.VariantName === variantName);
      if (!variant) {
        throw new AwsServiceError(
          'ValidationException',
          `The variant name(s) "${variantName}" is/are not present.`,
        );
      }
      if (variant.ServerlessConfig && entry.DesiredInstanceCount !== undefined) {
        throw new AwsServiceError(
          'ValidationException',
          `DesiredInstanceCount cannot be updated for serverless variant "${variantName}".`,
        );
      }
      return {
        VariantName: variantName,
        ...(typeof entry.DesiredWeight === 'number' ? { DesiredWeight: entry.DesiredWeight } : {}),
        ...(typeof entry.DesiredInstanceCount === 'number'
          ? { DesiredInstanceCount: entry.DesiredInstanceCount }
          : {}),
      };
    });
    startCapacityChange(context, endpoint, changes);
    return { EndpointArn: endpoint.EndpointArn };
  },

  DeleteEndpoint(context, input) {
    const endpoint = requireEndpoint(context, input.EndpointName);
    if (endpoint.EndpointStatus === 'Deleting') return {};
    deregisterScaledVariants(context, endpoint.EndpointName);
    endpoint.EndpointStatus = 'Deleting';
    endpoint.LastModifiedTime = context.now();
    const generation = ++endpoint.generation;
    context.scheduler.after(context.delays.endpointDeleteMs, () => {
      if (endpoint.generation !== generation || context.endpoints.get(endpoint.EndpointName) !== endpoint)
        return;
      context.endpoints.delete(endpoint.EndpointName);
      context.tags.delete(endpoint.EndpointArn);
    });
    return {};
  },

  AddTags(context, input) {
    const arn = stringField(input, 'ResourceArn');
    if (!arn) throw invalidField('ResourceArn', 'Member must not be null');
    putTags(context, arn, input.Tags ?? []);
    return { Tags: input.Tags ?? [] };
  },

  DeleteTags(context, input) {
    const arn = stringField(input, 'ResourceArn');
    if (!arn) throw invalidField('ResourceArn', 'Member must not be null');
    const existing = context.tags.get(arn);
    for (const key of (input.TagKeys as string[]) ?? []) existing?.delete(key);
    return {};
  },

  ListTags(context, input) {
    const arn = stringField(input, 'ResourceArn');
    if (!arn) throw invalidField('ResourceArn', 'Member must not be null');
    const tags = [...(context.tags.get(arn) ?? new Map<string, string>()).entries()].map(([Key, Value]) => ({
      Key,
      Value,
    }));
    const { page, nextToken } = paginate(tags, input.NextToken, input.MaxResults, 50);
    return { Tags: page, ...(nextToken ? { NextToken: nextToken } : {}) };
  },
};

/** The SageMaker control-plane operations this emulator speaks (training jobs are added beside them). */
export const sageMakerEndpointHandlers: Readonly<Record<string, Handler>> = handlers;
export type SageMakerHandler = Handler;
