import {
  type AutoscalingPolicy,
  abortedError,
  autoscalingPolicySchema,
  type CallOptionsV1,
  canonicalJson,
  type DeploymentOperationsV1,
  type DeploymentSpec,
  type DeploymentStatus,
  deploymentSpecSchema,
  MlscaleError,
  type PredictResponse,
  parseSpec,
  predictRequestSchema,
  resourceNameSchema,
  specHash,
  tensorSchema,
  waitFor,
} from '@mlscale/core';
import { z } from 'zod';
import type { AdapterContext } from './adapter-context.js';
import {
  blueGreenDeploymentConfig,
  createEndpointConfigRequest,
  createModelRequests,
  type DeploymentRequestsInput,
  instanceTypeFor,
  variantModels,
} from './deployment-requests.js';
import {
  buildReading,
  type DeploymentReading,
  deleteConfigAndModels,
  describeEndpointConfig,
  listTags,
  readDeployment,
} from './deployment-status.js';
import { applyAutoscaling } from './endpoint-autoscaling.js';
import { readModelVersion } from './model-registry-operations.js';
import { deploymentAwsOptions, requireExecutionRole } from './provider-options.js';
import { deploymentResourceNames, rollbackAlarmName } from './resource-names.js';
import { type AwsTag, specTags, staleSpecChunkKeys, tagKeys, userTags } from './spec-tags.js';

const v2ResponseSchema = z.object({
  id: z.string().optional(),
  model_name: z.string(),
  model_version: z.string().optional(),
  outputs: z.array(tensorSchema),
});

/** A SageMaker resource a deploy created, so a failed deploy can remove it or name it. */
interface CreatedResource {
  kind: 'model' | 'endpoint config';
  name: string;
}

function describeResources(resources: readonly CreatedResource[]): string {
  return resources.map((resource) => `${resource.kind} ${resource.name}`).join(', ');
}

/** SageMaker's limit of tags per resource. */
const maximumTags = 50;

export function createDeploymentOperations(context: AdapterContext): DeploymentOperationsV1 {
  const { aws, settings } = context;

  function checkName(name: string): string {
    return parseSpec(resourceNameSchema, name, 'deployment name');
  }

  async function requireDeployment(name: string, signal?: AbortSignal): Promise<DeploymentReading> {
    const reading = await readDeployment(context, name, signal);
    if (!reading) {
      throw new MlscaleError({
        code: 'NotFound',
        provider: 'aws',
        message: `No SageMaker endpoint named '${name}'.`,
      });
    }
    return reading;
  }

  function requireInService(reading: DeploymentReading, what: string): void {
    if (reading.status.state !== 'InService') {
      throw new MlscaleError({
        code: 'Conflict',
        provider: 'aws',
        retryable: reading.status.state === 'Creating' || reading.status.state === 'Updating',
        message: `Cannot ${what} deployment '${reading.status.name}' while it is ${reading.status.state}: SageMaker changes an endpoint only when it is InService.`,
      });
    }
  }

  function requireManaged(reading: DeploymentReading): void {
    if (!reading.managed) {
      throw new MlscaleError({
        code: 'Conflict',
        provider: 'aws',
        message: `SageMaker endpoint '${reading.status.name}' was not created by mlscale (no mlscale tags); manage it with the tools that made it, or delete it and deploy again.`,
      });
    }
  }

  /** Everything a deploy or a blue/green update creates, with models uploaded. */
  async function prepare(spec: DeploymentSpec, signal?: AbortSignal): Promise<DeploymentRequestsInput> {
    const options = deploymentAwsOptions(spec.providerOptions);
    const image = options.image ?? settings.servingImage;
    if (!image) {
      throw new MlscaleError({
        code: 'InvalidSpec',
        provider: 'aws',
        message:
          'providerOptions.aws.image: SageMaker needs a serving image; set servingImage in sagemaker() settings (or MLSCALE_SAGEMAKER_IMAGE), or providerOptions.aws.image.',
        issues: [{ path: 'providerOptions.aws.image', message: 'expected a container image URI' }],
      });
    }
    const roleArn = requireExecutionRole(options.roleArn, settings.roleArn);
    const modelDataUrls: string[] = [];
    for (const [index, { model }] of variantModels(spec).entries()) {
      if (!('uri' in model)) {
        // A registered model: its package's model data, as the registry recorded it.
        const version = await readModelVersion(
          context,
          model.name,
          model.version === 'latest' ? undefined : model.version,
          signal,
        );
        if (!version) {
          throw new MlscaleError({
            code: 'NotFound',
            provider: 'aws',
            message: `${spec.traffic ? `traffic[${index}].model` : 'model'}: no registered model '${model.name}' version ${model.version} in the SageMaker Model Registry.`,
          });
        }
        modelDataUrls.push(version.uri);
        continue;
      }
      modelDataUrls.push(await context.artifacts.modelDataUrl(model.uri, signal));
    }
    const hash = specHash(spec);
    const names = deploymentResourceNames(spec.name, hash, modelDataUrls.length);
    const tags: AwsTag[] = [
      { Key: tagKeys.deployment, Value: spec.name },
      { Key: tagKeys.specHash, Value: hash },
      ...userTags(spec.tags),
    ];
    return {
      spec,
      names,
      modelDataUrls,
      image,
      roleArn,
      instanceType: instanceTypeFor(spec, settings.instanceType),
      options,
      tags,
    };
  }

  /** The endpoint's tags for a spec: who owns it, the spec, its hash and its config. */
  function endpointTags(spec: DeploymentSpec, configName: string): AwsTag[] {
    const tags = [
      { Key: tagKeys.deployment, Value: spec.name },
      { Key: tagKeys.specHash, Value: specHash(spec) },
      { Key: tagKeys.endpointConfig, Value: configName },
      ...specTags(spec),
      ...userTags(spec.tags),
    ];
    if (tags.length > maximumTags - 1) {
      throw new MlscaleError({
        code: 'InvalidSpec',
        provider: 'aws',
        message: `tags: SageMaker allows ${maximumTags} tags per resource and mlscale needs ${tags.length - userTags(spec.tags).length} of them; remove some of the ${userTags(spec.tags).length} tags.`,
      });
    }
    return tags;
  }

  /** Records a new spec on the endpoint (and anything else in `extra`), dropping spec chunks it no longer needs. */
  async function recordSpec(
    reading: DeploymentReading,
    spec: DeploymentSpec,
    configName: string,
    extra: AwsTag[],
    signal?: AbortSignal,
  ): Promise<void> {
    const arn = reading.describe.EndpointArn!;
    const next = [...endpointTags(spec, configName), ...extra];
    await aws.call(
      'sageMaker',
      'AddTags',
      ({ module, client }, abortSignal) =>
        client.send(new module.AddTagsCommand({ ResourceArn: arn, Tags: next }), { abortSignal }),
      signal,
    );
    const stale = [
      ...staleSpecChunkKeys(reading.tags, next),
      ...Object.keys(reading.tags).filter(
        (key) => !key.startsWith('mlscale:') && !next.some((tag) => tag.Key === key),
      ),
    ];
    if (stale.length > 0) {
      await aws.call(
        'sageMaker',
        'DeleteTags',
        ({ module, client }, abortSignal) =>
          client.send(new module.DeleteTagsCommand({ ResourceArn: arn, TagKeys: stale }), { abortSignal }),
        signal,
      );
    }
  }

  /**
   * Creates the models and the endpoint config, adopting any that an earlier, interrupted run of the
   * same spec created (same names, same spec-hash tag). Returns what this run created.
   */
  async function createModelsAndConfig(
    prepared: DeploymentRequestsInput,
    created: CreatedResource[],
    signal?: AbortSignal,
  ) {
    const hash = specHash(prepared.spec);
    for (const request of createModelRequests(prepared)) {
      const name = request.ModelName!;
      await createOrAdopt(
        { kind: 'model', name },
        hash,
        () =>
          aws.call(
            'sageMaker',
            'CreateModel',
            ({ module, client }, abortSignal) =>
              client.send(new module.CreateModelCommand(request), { abortSignal }),
            signal,
          ),
        async () =>
          (
            await aws.find(
              'sageMaker',
              'DescribeModel',
              ({ module, client }, abortSignal) =>
                client.send(new module.DescribeModelCommand({ ModelName: name }), { abortSignal }),
              signal,
            )
          )?.ModelArn,
        created,
        signal,
      );
    }
    const configRequest = createEndpointConfigRequest(prepared);
    configRequest.Tags = [...(configRequest.Tags ?? []), ...specTags(prepared.spec)];
    await createOrAdopt(
      { kind: 'endpoint config', name: configRequest.EndpointConfigName! },
      hash,
      () =>
        aws.call(
          'sageMaker',
          'CreateEndpointConfig',
          ({ module, client }, abortSignal) =>
            client.send(new module.CreateEndpointConfigCommand(configRequest), { abortSignal }),
          signal,
        ),
      async () =>
        (await describeEndpointConfig(context, configRequest.EndpointConfigName!, signal))?.EndpointConfigArn,
      created,
      signal,
    );
  }

  async function createOrAdopt(
    resource: CreatedResource,
    hash: string,
    create: () => Promise<unknown>,
    existingArn: () => Promise<string | undefined>,
    created: CreatedResource[],
    signal?: AbortSignal,
  ): Promise<void> {
    inFlight.add(resource);
    try {
      await create();
      created.push(resource);
      inFlight.delete(resource);
    } catch (error) {
      if (!MlscaleError.hasCode(error, 'AlreadyExists')) throw error;
      const arn = await existingArn();
      const tags = arn ? await listTags(context, arn, signal) : {};
      if (tags[tagKeys.specHash] !== hash) {
        throw new MlscaleError({
          code: 'AlreadyExists',
          provider: 'aws',
          message: `SageMaker ${resource.kind} ${resource.name} exists but was not made from this spec (its mlscale:spec-hash tag differs); delete it or choose another deployment name.`,
          cause: error,
        });
      }
    } finally {
      // Still listed only when the call never answered (an abort): it may or may not exist.
      if (!signal?.aborted) inFlight.delete(resource);
    }
  }

  /** Removes what a failed run created, newest first; returns what could not be removed. */
  async function cleanUp(created: readonly CreatedResource[]): Promise<CreatedResource[]> {
    const remaining: CreatedResource[] = [];
    for (const resource of [...created].reverse()) {
      try {
        if (resource.kind === 'endpoint config') {
          await aws.find('sageMaker', 'DeleteEndpointConfig', ({ module, client }) =>
            client.send(new module.DeleteEndpointConfigCommand({ EndpointConfigName: resource.name })),
          );
        } else {
          await aws.find('sageMaker', 'DeleteModel', ({ module, client }) =>
            client.send(new module.DeleteModelCommand({ ModelName: resource.name })),
          );
        }
      } catch {
        remaining.push(resource);
      }
    }
    return remaining;
  }

  /** Waits for InService with core's waiter; Failed ends the wait with SageMaker's FailureReason. */
  async function waitInService(name: string, signal?: AbortSignal): Promise<DeploymentReading> {
    return waitFor<DeploymentReading>({
      description: `SageMaker endpoint '${name}' to be InService`,
      minDelayMs: settings.polling.minDelayMs,
      maxDelayMs: settings.polling.maxDelayMs,
      ...(signal ? { signal } : {}),
      check: async (checkSignal) => {
        const reading = await readDeployment(context, name, checkSignal);
        if (!reading) return { state: 'FAILURE', reason: 'the endpoint disappeared' };
        if (reading.status.state === 'InService') return { state: 'SUCCESS', value: reading };
        if (reading.status.state === 'Failed') {
          return {
            state: 'FAILURE',
            reason: reading.status.stateReason ?? 'SageMaker reported Failed',
            value: reading,
          };
        }
        return { state: 'RETRY', value: reading, progress: reading.status.state };
      },
    }).catch((error: unknown) => {
      if (MlscaleError.isInstance(error) && error.provider === undefined) {
        throw new MlscaleError({
          code: error.code,
          provider: 'aws',
          retryable: error.retryable,
          message: error.message,
          cause: error,
        });
      }
      throw error;
    });
  }

  async function status(name: string, signal?: AbortSignal): Promise<DeploymentStatus> {
    return (await requireDeployment(name, signal)).status;
  }

  async function rollbackAlarm(spec: DeploymentSpec, variant: string, signal?: AbortSignal): Promise<void> {
    if (!spec.rollout) return;
    await aws.call(
      'cloudWatch',
      'PutMetricAlarm',
      ({ module, client }, abortSignal) =>
        client.send(
          new module.PutMetricAlarmCommand({
            AlarmName: rollbackAlarmName(spec.name),
            AlarmDescription: `mlscale: rolls back an update of '${spec.name}' when more than ${spec.rollout!.maxErrorRate * 100}% of requests fail.`,
            Namespace: 'AWS/SageMaker',
            MetricName: 'Invocation5XXErrors',
            Dimensions: [
              { Name: 'EndpointName', Value: spec.name },
              { Name: 'VariantName', Value: variant },
            ],
            // SageMaker emits 0 or 1 per request, so the average is the error rate.
            Statistic: 'Average',
            Period: 60,
            EvaluationPeriods: 1,
            Threshold: spec.rollout!.maxErrorRate,
            ComparisonOperator: 'GreaterThanThreshold',
            TreatMissingData: 'notBreaching',
          }),
          { abortSignal },
        ),
      signal,
    );
  }

  /** Everything but capacity, weights, autoscaling, rollout and tags: what needs new models to change. */
  function fleetShape(spec: DeploymentSpec): string {
    const {
      replicas: _replicas,
      autoscaling: _autoscaling,
      rollout: _rollout,
      tags: _tags,
      traffic,
      ...rest
    } = spec;
    return canonicalJson({ ...rest, traffic: traffic?.map((entry) => entry.model) });
  }

  /** Creations sent whose answer has not arrived: after an abort they may or may not exist. */
  const inFlight = new Set<CreatedResource>();

  const operations: DeploymentOperationsV1 = {
    async doCreate(input, options: CallOptionsV1) {
      const spec = parseSpec(deploymentSpecSchema, input, 'deployment spec');
      const { signal } = options;
      const hash = specHash(spec);
      const existing = await readDeployment(context, spec.name, signal);
      if (existing) {
        if (existing.status.specHash === hash && existing.status.state !== 'Deleting') return existing.status;
        throw new MlscaleError({
          code: existing.status.state === 'Deleting' ? 'Conflict' : 'AlreadyExists',
          provider: 'aws',
          retryable: existing.status.state === 'Deleting',
          message:
            existing.status.state === 'Deleting'
              ? `SageMaker endpoint '${spec.name}' is being deleted; deploy again once it is gone.`
              : `A deployment named '${spec.name}' exists with a different spec (hash ${existing.status.specHash.slice(0, 12)}); use update() to change it.`,
        });
      }
      const prepared = await prepare(spec, signal);
      const tags = endpointTags(spec, prepared.names.endpointConfig);
      const created: CreatedResource[] = [];
      try {
        await createModelsAndConfig(prepared, created, signal);
        await aws.call(
          'sageMaker',
          'CreateEndpoint',
          ({ module, client }, abortSignal) =>
            client.send(
              new module.CreateEndpointCommand({
                EndpointName: prepared.names.endpoint,
                EndpointConfigName: prepared.names.endpointConfig,
                Tags: tags,
              }),
              { abortSignal },
            ),
          signal,
        );
      } catch (error) {
        const unanswered = [...inFlight].filter((resource) =>
          resource.name.startsWith(prepared.names.endpointConfig),
        );
        for (const resource of unanswered) inFlight.delete(resource);
        if (MlscaleError.hasCode(error, 'AlreadyExists')) {
          // Another deploy created the endpoint meanwhile: the same spec converges; its models are in use, so nothing is removed.
          const raced = await readDeployment(context, spec.name, signal);
          if (raced?.status.specHash === hash) return raced.status;
          throw error;
        }
        if (signal?.aborted || MlscaleError.hasCode(error, 'Aborted')) {
          const aborted = abortedError(signal, `Deploying '${spec.name}'`);
          throw new MlscaleError({
            code: 'Aborted',
            provider: 'aws',
            message: `Deploying '${spec.name}' was aborted${created.length ? ` after creating ${describeResources(created)}` : ''}${
              unanswered.length
                ? ` (${describeResources(unanswered)} may also exist: the abort came before SageMaker answered)`
                : ''
            }. Deploying the same spec again adopts what exists and finishes; delete() removes it.`,
            cause: aborted,
          });
        }
        const remaining = await cleanUp(created);
        const failure = MlscaleError.isInstance(error)
          ? error
          : new MlscaleError({
              code: 'BackendFailure',
              provider: 'aws',
              message: String(error),
              cause: error,
            });
        throw new MlscaleError({
          code: failure.code,
          provider: 'aws',
          retryable: failure.retryable,
          ...(failure.statusCode ? { statusCode: failure.statusCode } : {}),
          message: `${failure.message}. ${
            remaining.length
              ? `Could not remove what this deploy created: ${describeResources(remaining)}; delete them by hand or deploy again.`
              : created.length
                ? `Removed what this deploy created (${describeResources(created)}).`
                : 'Nothing was created.'
          }`,
          cause: error,
        });
      }
      if (spec.autoscaling) {
        const reading = await waitInService(spec.name, signal);
        await applyAutoscaling(context, spec.name, prepared.names.variants, spec.autoscaling, signal);
        return (await buildReading(context, reading.describe, reading.tags, signal)).status;
      }
      return status(spec.name, signal);
    },

    async doGet(name, options) {
      checkName(name);
      return (await readDeployment(context, name, options.signal))?.status;
    },

    async *doList(options) {
      let nextToken: string | undefined;
      do {
        const page = await aws.call(
          'sageMaker',
          'ListEndpoints',
          ({ module, client }, abortSignal) =>
            client.send(
              new module.ListEndpointsCommand({
                MaxResults: 100,
                NextToken: nextToken,
                SortBy: 'Name',
                SortOrder: 'Ascending',
              }),
              {
                abortSignal,
              },
            ),
          options.signal,
        );
        for (const summary of page.Endpoints ?? []) {
          if (!summary.EndpointArn || !summary.EndpointName) continue;
          const tags = await listTags(context, summary.EndpointArn, options.signal);
          if (tags[tagKeys.deployment] !== summary.EndpointName) continue;
          const reading = await readDeployment(context, summary.EndpointName, options.signal);
          if (reading) yield reading.status;
        }
        nextToken = page.NextToken;
      } while (nextToken);
    },

    async doUpdate(input, options) {
      const spec = parseSpec(deploymentSpecSchema, input, 'deployment spec');
      const { signal } = options;
      const hash = specHash(spec);
      const reading = await requireDeployment(spec.name, signal);
      if (reading.status.specHash === hash) return reading.status;
      requireManaged(reading);
      requireInService(reading, 'update');
      const currentVariants = (reading.describe.ProductionVariants ?? []).map(
        (variant) => variant.VariantName!,
      );
      const currentConfig = reading.describe.EndpointConfigName!;
      const autoscalingChanged =
        canonicalJson(reading.status.autoscaling ?? null) !== canonicalJson(spec.autoscaling ?? null);

      if (fleetShape(reading.spec) === fleetShape(spec)) {
        // Same models and fleet: capacity and weights change in place.
        const weights = variantModels(spec).map((entry) => entry.weight);
        const serverless = Boolean(spec.serverless);
        const capacityChanged =
          (!serverless && !spec.autoscaling && reading.spec.replicas !== spec.replicas) ||
          canonicalJson(variantModels(reading.spec).map((entry) => entry.weight)) !== canonicalJson(weights);
        await recordSpec(reading, spec, currentConfig, [], signal);
        if (autoscalingChanged && !spec.autoscaling) {
          await applyAutoscaling(context, spec.name, currentVariants, null, signal);
        }
        if (capacityChanged) {
          await aws.call(
            'sageMaker',
            'UpdateEndpointWeightsAndCapacities',
            ({ module, client }, abortSignal) =>
              client.send(
                new module.UpdateEndpointWeightsAndCapacitiesCommand({
                  EndpointName: spec.name,
                  DesiredWeightsAndCapacities: currentVariants.map((variant, index) => ({
                    VariantName: variant,
                    DesiredWeight: weights[index] ?? 0,
                    ...(serverless || spec.autoscaling ? {} : { DesiredInstanceCount: spec.replicas }),
                  })),
                }),
                { abortSignal },
              ),
            signal,
          );
        }
        if (spec.autoscaling && autoscalingChanged) {
          await applyAutoscaling(context, spec.name, currentVariants, spec.autoscaling, signal);
        }
        return status(spec.name, signal);
      }

      // New models or fleet: a new endpoint config, rolled out blue/green.
      const prepared = await prepare(spec, signal);
      const created: CreatedResource[] = [];
      try {
        await createModelsAndConfig(prepared, created, signal);
      } catch (error) {
        if (!signal?.aborted) await cleanUp(created);
        throw error;
      }
      // Application Auto Scaling blocks updates that change a scaled variant; it is put back once InService.
      if (reading.status.autoscaling)
        await applyAutoscaling(context, spec.name, currentVariants, null, signal);
      await rollbackAlarm(spec, prepared.names.variants[0]!, signal);
      await recordSpec(
        reading,
        spec,
        prepared.names.endpointConfig,
        [{ Key: tagKeys.retiredConfigs, Value: currentConfig }],
        signal,
      );
      await aws.call(
        'sageMaker',
        'UpdateEndpoint',
        ({ module, client }, abortSignal) =>
          client.send(
            new module.UpdateEndpointCommand({
              EndpointName: spec.name,
              EndpointConfigName: prepared.names.endpointConfig,
              DeploymentConfig: blueGreenDeploymentConfig(spec, prepared.options),
            }),
            { abortSignal },
          ),
        signal,
      );
      if (spec.autoscaling) {
        const settled = await waitInService(spec.name, signal);
        const variants = (settled.describe.ProductionVariants ?? []).map((variant) => variant.VariantName!);
        await applyAutoscaling(context, spec.name, variants, spec.autoscaling, signal);
      }
      return status(spec.name, signal);
    },

    async doScale(name, replicas, options) {
      checkName(name);
      if (!Number.isInteger(replicas) || replicas < 0 || replicas > 1000) {
        throw new MlscaleError({
          code: 'InvalidSpec',
          provider: 'aws',
          message: `replicas: expected a whole number from 0 to 1000, got ${replicas}.`,
        });
      }
      const { signal } = options;
      const reading = await requireDeployment(name, signal);
      requireManaged(reading);
      if (reading.spec.serverless) {
        throw new MlscaleError({
          code: 'Unsupported',
          provider: 'aws',
          message: `Deployment '${name}' is serverless: SageMaker scales it by itself; change serverless.maxConcurrency with update() instead.`,
        });
      }
      if (replicas < 1) {
        throw new MlscaleError({
          code: 'Unsupported',
          provider: 'aws',
          message:
            'replicas: SageMaker real-time endpoints run at least one instance; delete the deployment or use serverless to scale to zero.',
        });
      }
      requireInService(reading, 'scale');
      const variants = (reading.describe.ProductionVariants ?? []).map((variant) => variant.VariantName!);
      // A fixed count replaces any autoscaling policy, which would otherwise move it again.
      if (reading.status.autoscaling) await applyAutoscaling(context, name, variants, null, signal);
      const { autoscaling: _autoscaling, ...rest } = reading.spec;
      await recordSpec(reading, { ...rest, replicas }, reading.describe.EndpointConfigName!, [], signal);
      await aws.call(
        'sageMaker',
        'UpdateEndpointWeightsAndCapacities',
        ({ module, client }, abortSignal) =>
          client.send(
            new module.UpdateEndpointWeightsAndCapacitiesCommand({
              EndpointName: name,
              DesiredWeightsAndCapacities: variants.map((variant) => ({
                VariantName: variant,
                DesiredInstanceCount: replicas,
              })),
            }),
            { abortSignal },
          ),
        signal,
      );
      return status(name, signal);
    },

    async doAutoscale(name, input, options) {
      checkName(name);
      const policy: AutoscalingPolicy | null =
        input === null ? null : parseSpec(autoscalingPolicySchema, input, 'autoscaling policy');
      const { signal } = options;
      const reading = await requireDeployment(name, signal);
      requireManaged(reading);
      if (reading.spec.serverless && policy) {
        throw new MlscaleError({
          code: 'Unsupported',
          provider: 'aws',
          message: `Deployment '${name}' is serverless: SageMaker scales it by itself (up to serverless.maxConcurrency).`,
        });
      }
      if (policy && policy.minReplicas < 1) {
        throw new MlscaleError({
          code: 'Unsupported',
          provider: 'aws',
          message:
            'autoscaling.minReplicas: SageMaker real-time endpoints keep at least one instance; use serverless to scale to zero.',
        });
      }
      requireInService(reading, 'autoscale');
      const variants = (reading.describe.ProductionVariants ?? []).map((variant) => variant.VariantName!);
      const { autoscaling: _autoscaling, ...rest } = reading.spec;
      const replicas = policy
        ? Math.min(policy.maxReplicas, Math.max(policy.minReplicas, rest.replicas))
        : rest.replicas;
      await recordSpec(
        reading,
        { ...rest, replicas, ...(policy ? { autoscaling: policy } : {}) },
        reading.describe.EndpointConfigName!,
        [],
        signal,
      );
      await applyAutoscaling(context, name, variants, policy, signal);
      return status(name, signal);
    },

    async doDelete(name, options) {
      checkName(name);
      const { signal } = options;
      const reading = await readDeployment(context, name, signal);
      if (!reading) return false;
      if (reading.status.state === 'Deleting') return true;
      const variants = (reading.describe.ProductionVariants ?? []).map((variant) => variant.VariantName!);
      if (reading.status.state !== 'Failed') await applyAutoscaling(context, name, variants, null, signal);
      if (reading.managed) {
        await aws.find(
          'cloudWatch',
          'DeleteAlarms',
          ({ module, client }, abortSignal) =>
            client.send(new module.DeleteAlarmsCommand({ AlarmNames: [rollbackAlarmName(name)] }), {
              abortSignal,
            }),
          signal,
        );
      }
      await aws.find(
        'sageMaker',
        'DeleteEndpoint',
        ({ module, client }, abortSignal) =>
          client.send(new module.DeleteEndpointCommand({ EndpointName: name }), { abortSignal }),
        signal,
      );
      if (reading.managed) {
        // SageMaker keeps configs and models after the endpoint; mlscale made them, so it removes them.
        const configs = new Set([
          reading.describe.EndpointConfigName!,
          ...(reading.tags[tagKeys.endpointConfig] ? [reading.tags[tagKeys.endpointConfig]!] : []),
          ...(reading.tags[tagKeys.retiredConfigs] ?? '').split(' ').filter(Boolean),
        ]);
        for (const config of configs) await deleteConfigAndModels(context, config, new Set(), signal);
      }
      return true;
    },

    async doPredict(name, input, options) {
      checkName(name);
      const request = parseSpec(predictRequestSchema, input, 'predict request');
      const body = JSON.stringify({
        ...(request.id ? { id: request.id } : {}),
        inputs: request.inputs,
        ...(request.outputs ? { outputs: request.outputs.map((output) => ({ name: output })) } : {}),
      });
      const response = await aws.call(
        'runtime',
        'InvokeEndpoint',
        ({ module, client }, abortSignal) =>
          client.send(
            new module.InvokeEndpointCommand({
              EndpointName: name,
              ContentType: 'application/json',
              Accept: 'application/json',
              Body: new TextEncoder().encode(body),
            }),
            { abortSignal },
          ),
        options.signal,
      );
      const text = new TextDecoder().decode(response.Body);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      const result = v2ResponseSchema.safeParse(parsed);
      if (!result.success) {
        throw new MlscaleError({
          code: 'BackendFailure',
          provider: 'aws',
          retryable: false,
          message: `Endpoint '${name}' answered with something other than a V2 inference response (content type ${response.ContentType ?? 'unknown'}): ${text.slice(0, 200)}`,
        });
      }
      const answer: PredictResponse = {
        modelName: result.data.model_name,
        ...(result.data.model_version ? { modelVersion: result.data.model_version } : {}),
        ...(result.data.id ? { id: result.data.id } : {}),
        outputs: result.data.outputs,
      };
      return answer;
    },
  };
  return operations;
}
