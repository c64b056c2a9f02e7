import type { DescribeEndpointCommandOutput } from '@aws-sdk/client-sagemaker';
import {
  type AutoscalingPolicy,
  type DeploymentSpec,
  type DeploymentState,
  type DeploymentStatus,
  deploymentSpecSchema,
  specHash,
} from '@mlscale/core';
import type { AdapterContext } from './adapter-context.js';
import { policyFromAutoScaling, scalableDimension, scalingPolicyName } from './autoscaling-translation.js';
import { variantResourceId } from './resource-names.js';
import { specFromTags, specTags, staleSpecChunkKeys, tagKeys, tagRecord } from './spec-tags.js';

/** A deployment as read from SageMaker: the endpoint, its tags and the recorded spec. */
export interface DeploymentReading {
  describe: DescribeEndpointCommandOutput;
  tags: Record<string, string>;
  spec: DeploymentSpec;
  managed: boolean;
  status: DeploymentStatus;
}

const states: Record<string, DeploymentState> = {
  Creating: 'Creating',
  Updating: 'Updating',
  SystemUpdating: 'Updating',
  RollingBack: 'RollingBack',
  InService: 'InService',
  Deleting: 'Deleting',
  Failed: 'Failed',
  UpdateRollbackFailed: 'Failed',
  OutOfService: 'Failed',
};

export async function describeEndpoint(context: AdapterContext, name: string, signal?: AbortSignal) {
  return context.aws.find(
    'sageMaker',
    'DescribeEndpoint',
    ({ module, client }, abortSignal) =>
      client.send(new module.DescribeEndpointCommand({ EndpointName: name }), { abortSignal }),
    signal,
  );
}

export async function listTags(
  context: AdapterContext,
  arn: string,
  signal?: AbortSignal,
): Promise<Record<string, string>> {
  const tags: Record<string, string> = {};
  let nextToken: string | undefined;
  do {
    const page = await context.aws.call(
      'sageMaker',
      'ListTags',
      ({ module, client }, abortSignal) =>
        client.send(new module.ListTagsCommand({ ResourceArn: arn, MaxResults: 100, NextToken: nextToken }), {
          abortSignal,
        }),
      signal,
    );
    Object.assign(tags, tagRecord(page.Tags));
    nextToken = page.NextToken;
  } while (nextToken);
  return tags;
}

/** An endpoint config, or undefined when it is gone. */
export function describeEndpointConfig(context: AdapterContext, configName: string, signal?: AbortSignal) {
  return context.aws.find(
    'sageMaker',
    'DescribeEndpointConfig',
    ({ module, client }, abortSignal) =>
      client.send(new module.DescribeEndpointConfigCommand({ EndpointConfigName: configName }), {
        abortSignal,
      }),
    signal,
  );
}

/** The models an endpoint config serves, or undefined when the config is gone. */
export async function configModels(context: AdapterContext, configName: string, signal?: AbortSignal) {
  const config = await describeEndpointConfig(context, configName, signal);
  return config
    ? (config.ProductionVariants ?? []).map((variant) => variant.ModelName ?? '').filter(Boolean)
    : undefined;
}

/** Deletes an endpoint config and its models (except those in `keepModels`); what is already gone is fine. */
export async function deleteConfigAndModels(
  context: AdapterContext,
  configName: string,
  keepModels: ReadonlySet<string>,
  signal?: AbortSignal,
): Promise<void> {
  const models = await configModels(context, configName, signal);
  await context.aws.find(
    'sageMaker',
    'DeleteEndpointConfig',
    ({ module, client }, abortSignal) =>
      client.send(new module.DeleteEndpointConfigCommand({ EndpointConfigName: configName }), {
        abortSignal,
      }),
    signal,
  );
  for (const model of models ?? []) {
    if (keepModels.has(model)) continue;
    await context.aws.find(
      'sageMaker',
      'DeleteModel',
      ({ module, client }, abortSignal) =>
        client.send(new module.DeleteModelCommand({ ModelName: model }), { abortSignal }),
      signal,
    );
  }
}

/** The autoscaling policy in force on the endpoint's first variant (mlscale applies one policy to every variant). */
export async function readAutoscaling(
  context: AdapterContext,
  endpoint: string,
  variants: string[],
  recorded: AutoscalingPolicy | undefined,
  signal?: AbortSignal,
): Promise<AutoscalingPolicy | undefined> {
  const first = variants[0];
  if (!first) return undefined;
  const resourceId = variantResourceId(endpoint, first);
  const targets = await context.aws.call(
    'autoScaling',
    'DescribeScalableTargets',
    ({ module, client }, abortSignal) =>
      client.send(
        new module.DescribeScalableTargetsCommand({
          ServiceNamespace: 'sagemaker',
          ResourceIds: [resourceId],
          ScalableDimension: scalableDimension,
        }),
        { abortSignal },
      ),
    signal,
  );
  const target = targets.ScalableTargets?.[0];
  if (!target) return undefined;
  const policies = await context.aws.call(
    'autoScaling',
    'DescribeScalingPolicies',
    ({ module, client }, abortSignal) =>
      client.send(
        new module.DescribeScalingPoliciesCommand({
          ServiceNamespace: 'sagemaker',
          ResourceId: resourceId,
          ScalableDimension: scalableDimension,
          PolicyNames: [scalingPolicyName],
        }),
        { abortSignal },
      ),
    signal,
  );
  return policyFromAutoScaling(target, policies.ScalingPolicies?.[0], recorded);
}

/** Where InvokeEndpoint requests for an endpoint go. */
export async function runtimeUrl(context: AdapterContext, name: string): Promise<string> {
  const base =
    context.settings.endpoint ?? `https://runtime.sagemaker.${await context.aws.region()}.amazonaws.com`;
  return `${base.replace(/\/+$/, '')}/endpoints/${encodeURIComponent(name)}/invocations`;
}

/** A spec for an endpoint mlscale did not create, from what SageMaker reports. */
function synthesizedSpec(describe: DescribeEndpointCommandOutput): DeploymentSpec {
  const replicas = (describe.ProductionVariants ?? []).reduce(
    (total, variant) => total + (variant.DesiredInstanceCount ?? 0),
    0,
  );
  const parsed = deploymentSpecSchema.safeParse({
    name: describe.EndpointName,
    model: { uri: `sagemaker://endpoint-config/${describe.EndpointConfigName}` },
    replicas: Math.max(0, Math.min(1000, replicas)),
  });
  return parsed.success
    ? parsed.data
    : ({ name: describe.EndpointName ?? '', model: { uri: '', format: 'onnx' }, replicas } as DeploymentSpec);
}

/**
 * Housekeeping once an endpoint is InService: removes endpoint configs and models an update left
 * behind, and, when SageMaker rolled an update back, restores the spec recorded on the config the
 * endpoint still runs. Best effort: what fails now is retried on the next read.
 */
async function settleAfterUpdate(
  context: AdapterContext,
  describe: DescribeEndpointCommandOutput,
  tags: Record<string, string>,
  signal?: AbortSignal,
): Promise<Record<string, string>> {
  if (describe.EndpointStatus !== 'InService' || !describe.EndpointArn || !describe.EndpointConfigName)
    return tags;
  const arn = describe.EndpointArn;
  const current = describe.EndpointConfigName;
  const updated = { ...tags };
  try {
    const retired = (tags[tagKeys.retiredConfigs] ?? '').split(' ').filter(Boolean);
    const recordedConfig = tags[tagKeys.endpointConfig];
    if (recordedConfig && recordedConfig !== current) {
      // Rolled back: the endpoint runs the old config; its own tags hold the spec it was made from.
      const config = await describeEndpointConfig(context, current, signal);
      const spec = config?.EndpointConfigArn
        ? specFromTags(await listTags(context, config.EndpointConfigArn, signal))
        : undefined;
      if (spec) {
        const next = [
          ...specTags(spec),
          { Key: tagKeys.specHash, Value: specHash(spec) },
          { Key: tagKeys.endpointConfig, Value: current },
        ];
        await context.aws.call(
          'sageMaker',
          'AddTags',
          ({ module, client }, abortSignal) =>
            client.send(new module.AddTagsCommand({ ResourceArn: arn, Tags: next }), { abortSignal }),
          signal,
        );
        const stale = staleSpecChunkKeys(tags, next);
        if (stale.length) {
          await context.aws.call(
            'sageMaker',
            'DeleteTags',
            ({ module, client }, abortSignal) =>
              client.send(new module.DeleteTagsCommand({ ResourceArn: arn, TagKeys: stale }), {
                abortSignal,
              }),
            signal,
          );
        }
        for (const key of stale) delete updated[key];
        for (const tag of next) updated[tag.Key] = tag.Value;
      }
      if (!retired.includes(recordedConfig)) retired.push(recordedConfig);
    }
    const toDelete = retired.filter((config) => config !== current);
    if (toDelete.length === 0) return updated;
    const keep = new Set((await configModels(context, current, signal)) ?? []);
    for (const config of toDelete) await deleteConfigAndModels(context, config, keep, signal);
    await context.aws.call(
      'sageMaker',
      'DeleteTags',
      ({ module, client }, abortSignal) =>
        client.send(new module.DeleteTagsCommand({ ResourceArn: arn, TagKeys: [tagKeys.retiredConfigs] }), {
          abortSignal,
        }),
      signal,
    );
    delete updated[tagKeys.retiredConfigs];
  } catch {
    // Housekeeping must not fail a read; the next read tries again.
  }
  return updated;
}

/** Reads a deployment: undefined when SageMaker has no endpoint of that name. */
export async function readDeployment(
  context: AdapterContext,
  name: string,
  signal?: AbortSignal,
): Promise<DeploymentReading | undefined> {
  const describe = await describeEndpoint(context, name, signal);
  if (!describe?.EndpointArn) return undefined;
  let tags = await listTags(context, describe.EndpointArn, signal);
  tags = await settleAfterUpdate(context, describe, tags, signal);
  return buildReading(context, describe, tags, signal);
}

export async function buildReading(
  context: AdapterContext,
  describe: DescribeEndpointCommandOutput,
  tags: Record<string, string>,
  signal?: AbortSignal,
): Promise<DeploymentReading> {
  const name = describe.EndpointName ?? '';
  const recorded = specFromTags(tags);
  const parsed = recorded === undefined ? undefined : deploymentSpecSchema.safeParse(recorded);
  const managed = tags[tagKeys.deployment] === name && parsed?.success === true;
  const spec = parsed?.success ? parsed.data : synthesizedSpec(describe);
  const variants = describe.ProductionVariants ?? [];
  const variantNames = variants.map((variant) => variant.VariantName ?? '').filter(Boolean);
  const autoscaling =
    describe.EndpointStatus === 'Deleting' || describe.EndpointStatus === 'Failed'
      ? undefined
      : await readAutoscaling(context, name, variantNames, spec.autoscaling, signal);
  const totalWeight = variants.reduce(
    (total, variant) => total + (variant.CurrentWeight ?? variant.DesiredWeight ?? 0),
    0,
  );
  const state = states[describe.EndpointStatus ?? ''] ?? 'Failed';
  const serverless = variants.some(
    (variant) => variant.CurrentServerlessConfig || variant.DesiredServerlessConfig,
  );
  const status: DeploymentStatus = {
    name,
    provider: 'aws',
    state,
    ...(describe.FailureReason
      ? {
          stateReason:
            state === 'Failed'
              ? `${describe.FailureReason} Delete the deployment to remove its endpoint, endpoint config and models.`
              : `The last update did not take: ${describe.FailureReason}`,
        }
      : {}),
    replicas: {
      desired: variants.reduce((total, variant) => total + (variant.DesiredInstanceCount ?? 0), 0),
      ready:
        state === 'InService' || state === 'Updating'
          ? variants.reduce((total, variant) => total + (variant.CurrentInstanceCount ?? 0), 0)
          : 0,
    },
    ...(autoscaling ? { autoscaling } : {}),
    traffic: variants.map((variant) => ({
      version: variant.VariantName ?? '',
      weight:
        totalWeight > 0 ? ((variant.CurrentWeight ?? variant.DesiredWeight ?? 0) / totalWeight) * 100 : 0,
    })),
    endpoint: { url: await runtimeUrl(context, name) },
    spec: { ...spec, ...(autoscaling ? { autoscaling } : {}) },
    specHash: tags[tagKeys.specHash] ?? specHash(spec),
    createdAt: describe.CreationTime ?? new Date(0),
    updatedAt: describe.LastModifiedTime ?? describe.CreationTime ?? new Date(0),
    details: {
      endpointArn: describe.EndpointArn,
      endpointConfigName: describe.EndpointConfigName,
      endpointStatus: describe.EndpointStatus,
      managedByMlscale: managed,
      serverless,
      variants: variants.map((variant) => ({
        name: variant.VariantName,
        currentInstanceCount: variant.CurrentInstanceCount,
        desiredInstanceCount: variant.DesiredInstanceCount,
        currentWeight: variant.CurrentWeight,
        images: (variant.DeployedImages ?? []).map((image) => image.SpecifiedImage),
      })),
      ...(describe.LastDeploymentConfig ? { lastDeploymentConfig: describe.LastDeploymentConfig } : {}),
    },
  };
  return { describe, tags, spec, managed, status };
}
