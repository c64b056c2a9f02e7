import {
  type AutoscalingPolicy,
  autoscalingPolicySchema,
  type CallOptionsV1,
  type DeploymentOperationsV1,
  type DeploymentSpec,
  type DeploymentStatus,
  deploymentSpecSchema,
  MlscaleError,
  type PredictRequest,
  type PredictResponse,
  parseSpec,
  predictRequestSchema,
  resourceNameSchema,
  specHash,
} from '@mlscale/core';
import { checkShape, datatypeInfo, decodeJsonData, jsonData } from '../server/tensor-codec.js';
import {
  createDeploymentRuntime,
  type DeploymentEnvironment,
  type DeploymentRuntime,
} from './deployment-runtime.js';
import { InferenceError, type InferenceRequest } from './inference-types.js';
import { parseLocalDeploymentOptions } from './local-deployment-options.js';

/** The deployments group of the local backend, plus what the backend needs to shut down. */
export interface LocalDeploymentOperations extends DeploymentOperationsV1 {
  /** The running deployment (its server, versions and metrics), for in-process use and tests. */
  runtime(name: string): DeploymentRuntime | undefined;
  /** Deletes every deployment and waits until they have stopped. */
  closeAll(): Promise<void>;
}

/** Deployments as servers in this process, one per deployment. */
export function createDeploymentOperations(environment: DeploymentEnvironment): LocalDeploymentOperations {
  const runtimes = new Map<string, DeploymentRuntime>();
  /** Deployments being deleted: reported as Deleting until they have stopped. */
  const deleting = new Map<string, { status: DeploymentStatus; done: Promise<void> }>();

  const require = (name: string): DeploymentRuntime => {
    parseSpec(resourceNameSchema, name, 'deployment name');
    const runtime = runtimes.get(name);
    if (!runtime) {
      throw new MlscaleError({
        code: 'NotFound',
        provider: 'local',
        message: `No deployment named '${name}' on the local backend.`,
      });
    }
    return runtime;
  };

  const checkSpec = (input: DeploymentSpec) => {
    const spec = parseSpec(deploymentSpecSchema, input, 'deployment spec');
    const local = parseLocalDeploymentOptions(spec.providerOptions?.local);
    const unsupported: string[] = [];
    if (spec.serverless) unsupported.push('serverless');
    if (spec.network?.private || spec.network?.subnets?.length || spec.network?.securityGroups?.length)
      unsupported.push('network');
    if (spec.encryption) unsupported.push('encryption');
    if (spec.traffic && spec.traffic.length > 1)
      unsupported.push('traffic (use update with rollout steps to split traffic between versions)');
    if (unsupported.length > 0) {
      throw new MlscaleError({
        code: 'Unsupported',
        provider: 'local',
        message: `The local backend cannot run this deployment: it does not support ${unsupported.join(', ')}.`,
      });
    }
    return { spec, local };
  };

  const deleteRuntime = (name: string, runtime: DeploymentRuntime) => {
    runtimes.delete(name);
    const status = { ...runtime.status(), state: 'Deleting' as const };
    const done = runtime.close().finally(() => deleting.delete(name));
    deleting.set(name, { status, done });
    return done;
  };

  return {
    async doCreate(input, _options: CallOptionsV1) {
      const { spec, local } = checkSpec(input);
      const existing = runtimes.get(spec.name);
      if (existing) {
        const status = existing.status();
        if (status.specHash === specHash(spec)) return status;
        throw new MlscaleError({
          code: 'AlreadyExists',
          provider: 'local',
          message: `Deployment '${spec.name}' exists with a different spec; use update to change it.`,
        });
      }
      await deleting.get(spec.name)?.done;
      const runtime = await createDeploymentRuntime(spec, local, environment);
      runtimes.set(spec.name, runtime);
      return runtime.status();
    },
    async doGet(name) {
      return runtimes.get(name)?.status() ?? deleting.get(name)?.status;
    },
    async *doList() {
      for (const runtime of [...runtimes.values()]) yield runtime.status();
      for (const entry of [...deleting.values()]) yield entry.status;
    },
    async doUpdate(input) {
      const { spec, local } = checkSpec(input);
      const runtime = require(spec.name);
      await runtime.update(spec, local);
      return runtime.status();
    },
    async doScale(name, replicas) {
      const runtime = require(name);
      if (!Number.isInteger(replicas) || replicas < 0 || replicas > 1000) {
        throw new MlscaleError({
          code: 'InvalidSpec',
          provider: 'local',
          message: `replicas: expected an integer from 0 to 1000, got ${replicas}`,
          issues: [{ path: 'replicas', message: 'expected an integer from 0 to 1000' }],
        });
      }
      runtime.scale(replicas);
      return runtime.status();
    },
    async doAutoscale(name, policyInput) {
      const runtime = require(name);
      const policy: AutoscalingPolicy | null =
        policyInput === null ? null : parseSpec(autoscalingPolicySchema, policyInput, 'autoscaling policy');
      if (policy?.target.metric === 'gpuUtilization' && runtime.status().device?.used !== 'cuda') {
        throw new MlscaleError({
          code: 'Unsupported',
          provider: 'local',
          message: `autoscaling on gpuUtilization needs a deployment on CUDA; '${name}' runs on ${runtime.status().device?.used} (${runtime.status().device?.reason ?? 'requested'}).`,
        });
      }
      runtime.autoscale(policy);
      return runtime.status();
    },
    async doDelete(name) {
      const runtime = runtimes.get(name);
      if (!runtime) return false;
      void deleteRuntime(name, runtime);
      return true;
    },
    async doPredict(name, input) {
      const runtime = require(name);
      const request = parseSpec(predictRequestSchema, input, 'predict request');
      const inference = toInferenceRequest(request);
      const startedAt = performance.now();
      const answered = (status: number, modelVersion?: string) =>
        runtime.recordRequest({
          route: 'predict (in process)',
          status,
          latencyMs: performance.now() - startedAt,
          ...(modelVersion ? { modelVersion } : {}),
          ...(inference.inputs[0] ? { batchSize: inference.inputs[0].shape[0] ?? 1 } : {}),
        });
      try {
        const result = await runtime.infer(inference);
        answered(200, result.modelVersion);
        const wanted = request.outputs;
        const response: PredictResponse = {
          modelName: name,
          modelVersion: result.modelVersion,
          outputs: result.outputs
            .filter((output) => !wanted || wanted.includes(output.name))
            .map((output) => ({
              name: output.name,
              datatype: output.datatype,
              shape: output.shape,
              data: jsonData(output) as (number | boolean)[],
            })),
        };
        if (request.id !== undefined) response.id = request.id;
        return response;
      } catch (error) {
        answered(error instanceof InferenceError ? error.status : 500);
        throw toMlscale(error, name);
      }
    },
    runtime: (name) => runtimes.get(name),
    async closeAll() {
      await Promise.all([...runtimes.entries()].map(([name, runtime]) => deleteRuntime(name, runtime)));
      await Promise.all([...deleting.values()].map((entry) => entry.done));
    },
  };
}

function toInferenceRequest(request: PredictRequest): InferenceRequest {
  try {
    return {
      ...(request.id === undefined ? {} : { id: request.id }),
      inputs: request.inputs.map((input) => {
        const where = `input '${input.name}'`;
        const info = datatypeInfo(input.datatype, where);
        const count = checkShape(input.shape, where);
        return {
          name: input.name,
          datatype: info.datatype,
          shape: input.shape,
          data: decodeJsonData(input.data, info, count, where),
        };
      }),
      ...(request.outputs ? { outputs: request.outputs.map((name) => ({ name, binary: false })) } : {}),
    };
  } catch (error) {
    throw toMlscale(error, '');
  }
}

/** Maps a serving failure to the MlscaleError code a caller branches on. */
function toMlscale(error: unknown, name: string): MlscaleError {
  if (!(error instanceof InferenceError))
    return MlscaleError.isInstance(error)
      ? error
      : new MlscaleError({ code: 'BackendFailure', provider: 'local', message: String(error), cause: error });
  const where = name ? `Predict on '${name}': ` : 'Predict: ';
  const base = { provider: 'local', message: `${where}${error.message}`, statusCode: error.status };
  if (error.status === 400 || error.status === 413)
    return new MlscaleError({
      ...base,
      code: 'InvalidSpec',
      issues: [{ path: 'inputs', message: error.message }],
    });
  if (error.status === 404) return new MlscaleError({ ...base, code: 'NotFound' });
  if (error.status === 429)
    return new MlscaleError({
      ...base,
      code: 'Throttled',
      retryAfterMs: (error.retryAfterSeconds ?? 1) * 1000,
    });
  if (error.status === 503 && error.reason === 'timeout')
    return new MlscaleError({ ...base, code: 'Timeout', retryable: true });
  return new MlscaleError({ ...base, code: 'BackendFailure', retryable: error.status === 503 });
}
