import type { DeploymentSpec } from '@mlscale/core';

/** Where the image keeps the model: SageMaker's path, which `mlscale serve` reads when given no model. */
export const containerModelDirectory = '/opt/ml/model';
/** The port the server listens on in the container. */
export const containerPort = 8080;

export interface DockerfileOptions {
  /** The @mlscale packages' version to install. */
  version: string;
  /** Node base image. */
  baseImage?: string;
}

/**
 * The mlscale server image for one deployment: Node, @mlscale/cli and @mlscale/local-gpu from npm, the
 * model under /opt/ml/model, `mlscale serve` as the entry point with the spec's batching. The same image
 * runs as a SageMaker or Vertex custom container (the server speaks their routes). Environment values are
 * not baked in: they may be secrets; the Kubernetes manifests pass them at run time.
 */
export function renderDockerfile(spec: DeploymentSpec, options: DockerfileOptions): string {
  const serve = serveArguments(spec, { allowUnauthenticated: false });
  return [
    '# syntax=docker/dockerfile:1',
    `# The mlscale server image for deployment '${spec.name}', written by \`mlscale export --target docker\`.`,
    `# Build: docker build -t ${spec.name}:latest .`,
    `# Run:   docker run -p ${containerPort}:${containerPort} -e MLSCALE_TOKEN=... ${spec.name}:latest`,
    `FROM ${options.baseImage ?? 'node:20-bookworm-slim'}`,
    'WORKDIR /app',
    // onnxruntime-node's install script downloads CUDA provider libraries unless told otherwise: a CPU
    // image skips that download (it needs no network beyond npm), a GPU image asks for CUDA 12.
    `ENV ONNXRUNTIME_NODE_INSTALL=${spec.instance?.accelerator ? 'cuda12' : 'skip'}`,
    `RUN npm install --omit=dev --no-audit --no-fund @mlscale/cli@${options.version} @mlscale/local-gpu@${options.version} \\`,
    '    && npm cache clean --force',
    `COPY model/ ${containerModelDirectory}/`,
    'ENV NODE_ENV=production',
    `EXPOSE ${containerPort}`,
    'USER node',
    `HEALTHCHECK --interval=10s --timeout=3s --start-period=30s CMD node -e "fetch('http://127.0.0.1:${containerPort}/v2/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"`,
    'ENTRYPOINT ["/app/node_modules/.bin/mlscale"]',
    // Without MLSCALE_TOKEN the server refuses to bind 0.0.0.0; --allow-unauthenticated is for platforms that
    // authenticate in front of the container (SageMaker, Vertex, a cluster-internal Service).
    `CMD ${JSON.stringify(serve)}`,
    '',
  ].join('\n');
}

/**
 * `mlscale serve` arguments for a deployment in a container: its name, all interfaces on the container
 * port, the spec's batching, and the model under /opt/ml/model. The image's CMD and the Kubernetes
 * container's args are both these.
 */
export function serveArguments(spec: DeploymentSpec, options: { allowUnauthenticated: boolean }): string[] {
  const { batching } = spec;
  return [
    'serve',
    '--name',
    spec.name,
    '--host',
    '0.0.0.0',
    '--port',
    String(containerPort),
    ...(batching
      ? [
          '--max-batch-size',
          String(batching.maxBatchSize),
          '--max-queue-delay-ms',
          String(batching.maxQueueDelayMs),
          '--max-queue-size',
          String(batching.maxQueueSize),
        ]
      : []),
    '--device',
    spec.instance?.accelerator ? 'auto' : 'cpu',
    ...(options.allowUnauthenticated ? ['--allow-unauthenticated'] : []),
    containerModelDirectory,
  ];
}

/** What `.dockerignore` keeps out of the build context. */
export const dockerignore = ['*', '!model/', '!model/**', ''].join('\n');
