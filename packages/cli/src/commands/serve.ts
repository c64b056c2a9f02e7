import { existsSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  createMlscale,
  type DeploymentSpecInput,
  deploymentSpecSchema,
  MlscaleError,
  parseSpec,
  redactText,
} from '@mlscale/core';
import type { LocalGpuBackend, LocalGpuSettings } from '@mlscale/local-gpu';
import { type Command, type CommandContext, exitCodes } from './command-context.js';

const summary = 'Serve an ONNX model over HTTP (KServe V2, SageMaker, Vertex) in the foreground.';

const help = `${summary}

Usage: mlscale serve [MODEL] [options]

MODEL is an .onnx file or a folder holding one. Without it (as a cloud container) the model is read from
/opt/ml/model (SageMaker), AIP_STORAGE_URI as a local path (Vertex) or AZUREML_MODEL_DIR (Azure ML), the
port from SAGEMAKER_BIND_TO_PORT, AIP_HTTP_PORT, or 8080, and the host defaults to 0.0.0.0, which needs
MLSCALE_TOKEN, or MLSCALE_ALLOW_UNAUTHENTICATED=1 behind the platform's own authentication.

Options:
      --name NAME             model name in routes (default: the file's base name)
      --host HOST             address to bind (default 127.0.0.1, or 0.0.0.0 as a container; any but
                              loopback needs --token or --allow-unauthenticated)
      --port PORT             port (default 8080; 0 picks a free one)
      --grpc-port PORT        also serve the Open Inference Protocol over gRPC on this port (0 picks one)
      --replicas N            worker threads, each with its own onnxruntime session (default 1)
      --max-batch-size N      rows merged into one inference (default 32; 1 turns batching off)
      --max-queue-delay-ms MS how long a batch waits for more requests (default 2)
      --max-queue-size N      waiting requests before 429 (default 1024)
      --device DEVICE         auto | cuda | cpu (default auto: CUDA if it loads, else CPU, with the reason)
      --token TOKEN           bearer token for every route but health (default: $MLSCALE_TOKEN)
      --tls-key FILE          PEM key, with --tls-cert, to serve HTTPS
      --tls-cert FILE         PEM certificate
      --allow-unauthenticated bind a non-loopback address without a token, only behind a platform's
                              authentication (also MLSCALE_ALLOW_UNAUTHENTICATED=1)
  -h, --help                  this help

Once serving, it prints one JSON line on stdout: {"url": ..., "grpcUrl"?: ..., "model": ..., "device": ...}.
SIGTERM or Ctrl-C drains in-flight requests, then exits 143 or 130 (128 + the signal).

Examples:
  mlscale serve model.onnx
  mlscale serve model.onnx --port 0 --replicas 2 --max-batch-size 64
  mlscale serve --host 0.0.0.0 --allow-unauthenticated     # inside a SageMaker or Vertex container`;

const options = {
  name: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  'grpc-port': { type: 'string' },
  replicas: { type: 'string' },
  'max-batch-size': { type: 'string' },
  'max-queue-delay-ms': { type: 'string' },
  'max-queue-size': { type: 'string' },
  device: { type: 'string' },
  token: { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-cert': { type: 'string' },
  'allow-unauthenticated': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** How `serve` builds its backend; tests pass settings (a short autoscale interval, a fake probe). */
export interface ServeDependencies {
  backendSettings?: LocalGpuSettings;
  /** Called once serving, with the backend (tests read its runtime). */
  onServing?: (backend: LocalGpuBackend) => void;
}

/** `mlscale serve`: one model, one server, in the foreground until SIGTERM or Ctrl-C. */
export function createServeCommand(dependencies: ServeDependencies = {}): Command & {
  commandName: string;
  summary: string;
  help: string;
} {
  const command: Command = async (args, context) => {
    let values: Record<string, string | boolean | undefined>;
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true }));
    } catch (error) {
      context.stderr.write(
        `mlscale serve: ${error instanceof Error ? error.message : String(error)}\nRun 'mlscale serve --help' for usage.\n`,
      );
      return exitCodes.usage;
    }
    if (values.help) {
      context.stdout.write(`${help}\n`);
      return exitCodes.ok;
    }
    if (positionals.length > 1) {
      context.stderr.write(
        `mlscale serve: unexpected argument '${positionals[1]}'\nUsage: mlscale serve [MODEL] [options]\n`,
      );
      return exitCodes.usage;
    }
    let backend: LocalGpuBackend | undefined;
    try {
      const plan = await servePlan(values, positionals[0], context);
      const { localGpu } = await import('@mlscale/local-gpu');
      backend = localGpu({ root: resolve(context.cwd, '.mlscale'), ...dependencies.backendSettings });
      const spec = parseSpec(deploymentSpecSchema, plan.spec, 'serve options');
      const client = createMlscale({ backend, polling: { minDelayMs: 10, maxDelayMs: 200 } });
      // A record left by an earlier serve of this name (killed, say) is replaced by this one.
      await client
        .deploy(spec)
        .catch(async (error: unknown) => {
          if (!MlscaleError.hasCode(error, 'AlreadyExists')) throw error;
          return client.update(spec, { replace: true });
        })
        .catch((error: unknown) => {
          if (!MlscaleError.isInstance(error) || error.code !== 'BackendFailure') throw error;
          throw new MlscaleError({
            code: 'BackendFailure',
            provider: 'local',
            message: `Could not serve ${plan.modelPath}: ${error.message}`,
            cause: error,
          });
        });
      const runtime = backend.deployments.runtime(spec.name)!;
      const status = runtime.status();
      context.stdout.write(
        `${JSON.stringify({ url: runtime.url, ...(runtime.grpcUrl ? { grpcUrl: runtime.grpcUrl } : {}), model: plan.spec.name, path: plan.modelPath, replicas: status.replicas.ready, device: status.device })}\n`,
      );
      dependencies.onServing?.(backend);
      await waitForAbort(context.signal);
      context.stderr.write('mlscale serve: draining in-flight requests\n');
      // What serve started ends with it: the server and its record.
      await client.delete(spec.name);
      await backend.close();
      return exitCodes.ok;
    } catch (error) {
      await backend?.close().catch(() => {});
      const message = redactText(error instanceof Error ? error.message : String(error));
      context.stderr.write(`mlscale serve: ${message}\n`);
      return MlscaleError.hasCode(error, 'InvalidSpec') ? exitCodes.usage : exitCodes.failed;
    }
  };
  return Object.assign(command, { commandName: 'serve', summary, help });
}

/** The default `serve` command. */
export const serveCommand = createServeCommand();

interface ServePlan {
  spec: DeploymentSpecInput & { name: string };
  modelPath: string;
}

/** Reads flags and the platform's variables into a deployment spec. */
export async function servePlan(
  values: Record<string, string | boolean | undefined>,
  model: string | undefined,
  context: Pick<CommandContext, 'cwd' | 'env'>,
): Promise<ServePlan> {
  const { env } = context;
  const modelPath = model ? resolve(context.cwd, model) : containerModelPath(env);
  const { findModelFile } = await import('@mlscale/local-gpu');
  const integer = (flag: string, fallback?: number) => {
    const raw = values[flag];
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(value)) {
      throw usage(`--${flag}`, `expected a number, got ${JSON.stringify(raw)}`);
    }
    return value;
  };
  const device = values.device ?? 'auto';
  if (!isDevice(device)) throw usage('--device', `expected auto, cuda or cpu, got ${JSON.stringify(device)}`);
  const port =
    integer('port') ??
    integer('SAGEMAKER_BIND_TO_PORT', numberFrom(env.SAGEMAKER_BIND_TO_PORT ?? env.AIP_HTTP_PORT)) ??
    8080;
  const grpcPort = integer('grpc-port');
  const tlsKey = values['tls-key'];
  const tlsCert = values['tls-cert'];
  if ((tlsKey === undefined) !== (tlsCert === undefined))
    throw usage('--tls-key', 'expected --tls-key and --tls-cert together');
  const { readFile } = await import('node:fs/promises');
  const tls =
    typeof tlsKey === 'string' && typeof tlsCert === 'string'
      ? {
          key: await readFile(resolve(context.cwd, tlsKey), 'utf8'),
          cert: await readFile(resolve(context.cwd, tlsCert), 'utf8'),
        }
      : undefined;
  const token = (values.token as string | undefined) ?? env.MLSCALE_TOKEN;
  const spec = {
    // The file's base name, also when the path is a folder holding it (/opt/ml/model/model.onnx → model).
    name: typeof values.name === 'string' ? values.name : nameFromPath(await findModelFile(modelPath)),
    model: { uri: modelPath },
    replicas: integer('replicas', 1)!,
    batching: {
      maxBatchSize: integer('max-batch-size', 32)!,
      maxQueueDelayMs: integer('max-queue-delay-ms', 2)!,
      maxQueueSize: integer('max-queue-size', 1024)!,
    },
    providerOptions: {
      local: {
        // As a container (no MODEL: the platform put it there) the platform must reach the port.
        host: (values.host as string | undefined) ?? (model ? '127.0.0.1' : '0.0.0.0'),
        port,
        ...(grpcPort === undefined ? {} : { grpcPort }),
        device,
        ...(token ? { token } : {}),
        ...(tls ? { tls } : {}),
        ...(values['allow-unauthenticated'] === true ||
        /^(1|true)$/i.test(env.MLSCALE_ALLOW_UNAUTHENTICATED ?? '')
          ? { allowUnauthenticated: true }
          : {}),
        ...(env.AIP_PREDICT_ROUTE ? { predictRoute: env.AIP_PREDICT_ROUTE } : {}),
        ...(env.AIP_HEALTH_ROUTE ? { healthRoute: env.AIP_HEALTH_ROUTE } : {}),
      },
    },
  };
  return { spec, modelPath };
}

function isDevice(value: unknown): value is 'auto' | 'cuda' | 'cpu' {
  return value === 'auto' || value === 'cuda' || value === 'cpu';
}

/** Where a cloud platform put the model: SageMaker, then Vertex (a local path), then Azure ML. */
export function containerModelPath(env: Readonly<Record<string, string | undefined>>): string {
  if (existsSync('/opt/ml/model')) return '/opt/ml/model';
  const storage = env.AIP_STORAGE_URI;
  if (storage) {
    if (/^[a-z]+:\/\//i.test(storage) && !storage.startsWith('file://')) {
      throw usage(
        'AIP_STORAGE_URI',
        `expected a local path (copy the artifact into the container first), got ${storage}`,
      );
    }
    return storage.startsWith('file://') ? new URL(storage).pathname : storage;
  }
  if (env.AZUREML_MODEL_DIR) return env.AZUREML_MODEL_DIR;
  throw usage(
    'MODEL',
    'expected a model path, or /opt/ml/model, AIP_STORAGE_URI or AZUREML_MODEL_DIR as a cloud container has',
  );
}

/** A DNS-label model name from a file name: `My Model.v2.onnx` → `my-model-v2`. */
export function nameFromPath(path: string): string {
  const stem = basename(path, extname(path)).toLowerCase();
  let name = stem
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+$/, '')
    .slice(0, 32)
    .replace(/-+$/, '');
  if (name.length < 3) name = `model${name ? `-${name}` : ''}`.slice(0, 32);
  return name;
}

function numberFrom(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const parsed = Number(value);
  return Number.isInteger(parsed) ? parsed : undefined;
}

function usage(field: string, message: string): MlscaleError {
  return new MlscaleError({
    code: 'InvalidSpec',
    message: `${field}: ${message}`,
    issues: [{ path: field, message }],
  });
}

function waitForAbort(signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return new Promise(() => {});
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
