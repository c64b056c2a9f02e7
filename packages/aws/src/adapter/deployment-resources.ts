import { type DeploymentSpec, MlscaleError, specHash } from '@mlscale/core';
import type { SecretMemory } from '@mlscale/core/provider-utils';
import type { AdapterContext } from './adapter-context.js';
import { fleetHash, fleetNames } from './deployment-fleet.js';
import { readTags } from './deployment-observation.js';
import {
  createEndpointConfigRequest,
  createModelRequests,
  type DeploymentRequestsInput,
  instanceTypeFor,
  variantModels,
} from './deployment-requests.js';
import { readModelVersion } from './model-registry-operations.js';
import { deploymentAwsOptions, requireExecutionRole } from './provider-options.js';
import { resourceTags, tagKeys } from './resource-tags.js';

/** A model or endpoint config one call created (not adopted), so a refused create can take it back. */
export interface CreatedResource {
  kind: 'model' | 'endpoint config';
  name: string;
}

export function describeResources(resources: readonly CreatedResource[]): string {
  return resources.map((resource) => `${resource.kind} ${resource.name}`).join(', ');
}

/** An endpoint config, or undefined when there is none of that name. */
export function describeEndpointConfig(
  context: AdapterContext,
  name: string,
  signal: AbortSignal | undefined,
) {
  return context.aws.find(
    'sageMaker',
    'DescribeEndpointConfig',
    ({ module, client }, abortSignal) =>
      client.send(new module.DescribeEndpointConfigCommand({ EndpointConfigName: name }), { abortSignal }),
    signal,
  );
}

function describeModel(context: AdapterContext, name: string, signal: AbortSignal | undefined) {
  return context.aws.find(
    'sageMaker',
    'DescribeModel',
    ({ module, client }, abortSignal) =>
      client.send(new module.DescribeModelCommand({ ModelName: name }), { abortSignal }),
    signal,
  );
}

/** Everything CreateModel and CreateEndpointConfig need: artifacts uploaded, registered models resolved. */
async function prepare(
  context: AdapterContext,
  sealed: DeploymentSpec,
  runnable: DeploymentSpec,
  signal: AbortSignal | undefined,
): Promise<DeploymentRequestsInput> {
  const { settings } = context;
  const options = deploymentAwsOptions(runnable.providerOptions);
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
  for (const [index, { model }] of variantModels(runnable).entries()) {
    if ('uri' in model) {
      modelDataUrls.push(await context.artifacts.modelDataUrl(model.uri, signal));
      continue;
    }
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
        message: `${runnable.traffic ? `traffic[${index}].model` : 'model'}: no registered model '${model.name}' version ${model.version} in the SageMaker Model Registry.`,
      });
    }
    modelDataUrls.push(version.uri);
  }
  return {
    spec: runnable,
    names: fleetNames(sealed),
    modelDataUrls,
    image,
    roleArn,
    instanceType: instanceTypeFor(runnable, settings.instanceType),
    options,
    tags: resourceTags(sealed, specHash(sealed), fleetHash(sealed)),
  };
}

/**
 * Creates a resource, or adopts one of the same name that an interrupted run made for the same fleet
 * (its `mlscale:deployment` and `mlscale:fleet-hash` tags say so). Returns whether this call created it.
 */
async function createOrAdopt(
  context: AdapterContext,
  resource: CreatedResource,
  owner: { deployment: string; fleet: string },
  create: () => Promise<unknown>,
  arnOf: () => Promise<string | undefined>,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  try {
    await create();
    return true;
  } catch (error) {
    if (!MlscaleError.hasCode(error, 'AlreadyExists')) throw error;
    const arn = await arnOf();
    const tags = arn ? await readTags(context, arn, signal) : {};
    if (tags[tagKeys.deployment] === owner.deployment && tags[tagKeys.fleetHash] === owner.fleet)
      return false;
    throw new MlscaleError({
      code: 'AlreadyExists',
      provider: 'aws',
      message: `SageMaker ${resource.kind} ${resource.name} exists but was not made by mlscale for this deployment's fleet (its mlscale:deployment or mlscale:fleet-hash tag differs); delete it or choose another deployment name.`,
      cause: error,
    });
  }
}

/** Deletes one model or endpoint config; one already gone is fine. */
export async function deleteResource(
  context: AdapterContext,
  resource: CreatedResource,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (resource.kind === 'endpoint config') {
    await context.aws.find(
      'sageMaker',
      'DeleteEndpointConfig',
      ({ module, client }, abortSignal) =>
        client.send(new module.DeleteEndpointConfigCommand({ EndpointConfigName: resource.name }), {
          abortSignal,
        }),
      signal,
    );
    return;
  }
  await context.aws.find(
    'sageMaker',
    'DeleteModel',
    ({ module, client }, abortSignal) =>
      client.send(new module.DeleteModelCommand({ ModelName: resource.name }), { abortSignal }),
    signal,
  );
}

/**
 * The error to throw when a create was refused after it made `created`: those are removed first
 * (newest first, best effort) and the message says what was, or could not be, removed. A retryable
 * failure or an abort keeps them: a re-run adopts them, and delete or garbage collection finds them
 * by name.
 */
export async function refusedAfterCreating(
  context: AdapterContext,
  error: unknown,
  created: readonly CreatedResource[],
  what: string,
  signal: AbortSignal | undefined,
): Promise<unknown> {
  if (
    created.length === 0 ||
    !MlscaleError.isInstance(error) ||
    error.retryable ||
    error.code === 'Aborted' ||
    signal?.aborted
  )
    return error;
  const remaining: CreatedResource[] = [];
  for (const resource of [...created].reverse()) {
    try {
      await deleteResource(context, resource, signal);
    } catch {
      remaining.push(resource);
    }
  }
  const removed = created.filter((resource) => !remaining.includes(resource));
  return new MlscaleError({
    code: error.code,
    provider: 'aws',
    retryable: false,
    ...(error.statusCode ? { statusCode: error.statusCode } : {}),
    message: `${error.message}. ${
      remaining.length
        ? `Could not remove what this ${what} created: ${describeResources(remaining)}; delete the deployment (it finds them by name) or remove them by hand.`
        : `Removed what this ${what} created (${describeResources(removed)}).`
    }`,
    cause: error,
  });
}

/**
 * CreateModel for each variant (the one place the real environment goes: PrimaryContainer.Environment),
 * then CreateEndpointConfig, each adopted when an earlier run made it. `sealed` names and tags them;
 * `runnable` (the same spec with its secret values) fills them. A refusal removes what this call made.
 * Returns what it created.
 */
export async function createFleet(
  context: AdapterContext,
  sealed: DeploymentSpec,
  runnable: DeploymentSpec,
  what: string,
  signal: AbortSignal | undefined,
): Promise<CreatedResource[]> {
  const { aws } = context;
  const owner = { deployment: sealed.name, fleet: fleetHash(sealed) };
  const created: CreatedResource[] = [];
  try {
    const prepared = await prepare(context, sealed, runnable, signal);
    for (const request of createModelRequests(prepared)) {
      const resource: CreatedResource = { kind: 'model', name: request.ModelName! };
      const made = await createOrAdopt(
        context,
        resource,
        owner,
        () =>
          aws.call(
            'sageMaker',
            'CreateModel',
            ({ module, client }, abortSignal) =>
              client.send(new module.CreateModelCommand(request), { abortSignal }),
            signal,
          ),
        async () => (await describeModel(context, resource.name, signal))?.ModelArn,
        signal,
      );
      if (made) created.push(resource);
    }
    const configRequest = createEndpointConfigRequest(prepared);
    const config: CreatedResource = { kind: 'endpoint config', name: configRequest.EndpointConfigName! };
    const made = await createOrAdopt(
      context,
      config,
      owner,
      () =>
        aws.call(
          'sageMaker',
          'CreateEndpointConfig',
          ({ module, client }, abortSignal) =>
            client.send(new module.CreateEndpointConfigCommand(configRequest), { abortSignal }),
          signal,
        ),
      async () => (await describeEndpointConfig(context, config.name, signal))?.EndpointConfigArn,
      signal,
    );
    if (made) created.push(config);
    return created;
  } catch (error) {
    throw await refusedAfterCreating(context, error, created, what, signal);
  }
}

/**
 * The environment of the container a config runs (its first model's), as `SecretMemory.unseal` looks
 * values up: the one copy of a secret's value a process that never saw it can use.
 */
async function containerLookup(
  context: AdapterContext,
  configName: string | undefined,
  signal: AbortSignal | undefined,
): Promise<(path: string) => string | undefined> {
  const config = configName ? await describeEndpointConfig(context, configName, signal) : undefined;
  const modelName = config?.ProductionVariants?.[0]?.ModelName;
  const model = modelName ? await describeModel(context, modelName, signal) : undefined;
  const environment = model?.PrimaryContainer?.Environment ?? {};
  return (path) =>
    path.startsWith('environment.') ? environment[path.slice('environment.'.length)] : undefined;
}

/**
 * Makes sure the config and models a sealed spec runs on exist: none to make when its config does;
 * else they are created with the secret values this process remembers, or, for values it never saw,
 * the ones the running container has (`runningConfig`), each checked against its seal. Blocked when a
 * value is known to neither.
 */
export async function ensureFleet(
  context: AdapterContext,
  secrets: SecretMemory,
  sealed: DeploymentSpec,
  runningConfig: string | undefined,
  what: string,
  signal: AbortSignal | undefined,
): Promise<'ready' | { blocked: string }> {
  if (await describeEndpointConfig(context, fleetNames(sealed).endpointConfig, signal)) return 'ready';
  const unknown = secrets.missing(sealed);
  const lookup = unknown.length > 0 ? await containerLookup(context, runningConfig, signal) : undefined;
  const missing = unknown.filter((path) => lookup?.(path) === undefined);
  if (missing.length > 0) {
    return {
      blocked: `the values behind ${missing.join(', ')} are recorded only as keyed hashes and the running container does not have them; run update with the values themselves`,
    };
  }
  await createFleet(context, sealed, secrets.unseal(sealed, lookup), what, signal);
  return 'ready';
}
