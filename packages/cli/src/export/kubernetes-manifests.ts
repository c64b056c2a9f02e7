import type { AutoscalingPolicy, DeploymentSpec } from '@mlscale/core';
import { containerPort, serveArguments } from './dockerfile.js';

/** A Kubernetes object as plain JSON (apiVersion, kind, metadata, spec). */
export type KubernetesObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
} & Record<string, unknown>;

export interface KubernetesOptions {
  /** The image built from the exported Dockerfile. */
  image: string;
  /** CPU request per replica (Kubernetes quantity). Default `1`. */
  cpu?: string;
  /** Memory request and limit per replica. Default `2Gi`. */
  memory?: string;
  /** A Secret holding `MLSCALE_TOKEN`: requests then need the bearer token. Without one the server runs unauthenticated inside the cluster. */
  tokenSecret?: string;
  namespace?: string;
}

/** Label keys and values Kubernetes accepts, from tag keys that may hold ':' and values of any text. */
function labelPart(text: string): string {
  return text
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '')
    .slice(0, 63);
}

/** The labels every object carries: the spec's name and tags, and the recommended app.kubernetes.io labels. */
export function manifestLabels(spec: DeploymentSpec): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(spec.tags ?? {})) {
    const name = labelPart(key);
    if (name) labels[name] = labelPart(value);
  }
  return {
    ...labels,
    'app.kubernetes.io/name': spec.name,
    'app.kubernetes.io/instance': spec.name,
    'app.kubernetes.io/component': 'model-server',
    'app.kubernetes.io/managed-by': 'mlscale',
  };
}

/** Environment variable names that look like secrets go through a Secret, never into the manifest. */
const secretName =
  /(secret|token|password|passwd|api[-_]?key|access[-_]?key|credential|private[-_]?key|connection[-_]?string)/i;

/**
 * Deployment, Service and (with an autoscaling policy) HorizontalPodAutoscaler for one mlscale deployment:
 * the same name, the spec's tags as labels, probes on the Open Inference Protocol's health routes, GPUs as
 * `nvidia.com/gpu` limits.
 */
export function renderKubernetesManifests(
  spec: DeploymentSpec,
  options: KubernetesOptions,
): KubernetesObject[] {
  const labels = manifestLabels(spec);
  const selector = { 'app.kubernetes.io/name': spec.name, 'app.kubernetes.io/instance': spec.name };
  const metadata = (name: string) => ({
    name,
    ...(options.namespace ? { namespace: options.namespace } : {}),
    labels,
  });
  const gpus = spec.instance?.accelerator?.count ?? 0;
  const memory = options.memory ?? '2Gi';
  const environment = Object.entries(spec.environment ?? {}).map(([name, value]) =>
    secretName.test(name)
      ? { name, valueFrom: { secretKeyRef: { name: `${spec.name}-env`, key: name } } }
      : { name, value },
  );
  if (options.tokenSecret)
    environment.push({
      name: 'MLSCALE_TOKEN',
      valueFrom: { secretKeyRef: { name: options.tokenSecret, key: 'MLSCALE_TOKEN' } },
    });
  const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path, port: 'http' },
    periodSeconds,
    timeoutSeconds: 3,
    failureThreshold,
  });

  const deployment: KubernetesObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(spec.name),
    spec: {
      replicas: spec.autoscaling ? Math.max(1, spec.autoscaling.minReplicas, spec.replicas) : spec.replicas,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels },
        spec: {
          securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000 },
          containers: [
            {
              name: 'server',
              image: options.image,
              // The image's entry point is `mlscale`; in a cluster the Service is the front door.
              args: serveArguments(spec, { allowUnauthenticated: !options.tokenSecret }),
              ports: [{ name: 'http', containerPort, protocol: 'TCP' }],
              ...(environment.length ? { env: environment } : {}),
              resources: {
                requests: { cpu: options.cpu ?? '1', memory },
                limits: { memory, ...(gpus ? { 'nvidia.com/gpu': String(gpus) } : {}) },
              },
              // The model loads before ready: startup allows 5 minutes, then liveness takes over.
              startupProbe: probe('/v2/health/ready', 5, 60),
              readinessProbe: probe('/v2/health/ready', 5, 3),
              livenessProbe: probe('/v2/health/live', 10, 3),
            },
          ],
          ...(gpus
            ? { tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] }
            : {}),
        },
      },
    },
  };
  const service: KubernetesObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(spec.name),
    spec: {
      type: 'ClusterIP',
      selector,
      ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
    },
  };
  const objects = [deployment, service];
  if (spec.autoscaling)
    objects.push(horizontalPodAutoscaler(spec.name, spec.autoscaling, metadata(spec.name)));
  return objects;
}

/** The autoscaling policy as an autoscaling/v2 HPA: cooldowns become stabilization windows. */
function horizontalPodAutoscaler(
  name: string,
  policy: AutoscalingPolicy,
  metadata: KubernetesObject['metadata'],
): KubernetesObject {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata,
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      // The HPA cannot scale to zero without the HPAScaleToZero feature gate: 0 becomes 1.
      minReplicas: Math.max(1, policy.minReplicas),
      maxReplicas: policy.maxReplicas,
      metrics: [hpaMetric(policy)],
      behavior: {
        scaleDown: { stabilizationWindowSeconds: Math.min(policy.scaleInCooldownSeconds, 3600) },
        scaleUp: { stabilizationWindowSeconds: Math.min(policy.scaleOutCooldownSeconds, 3600) },
      },
    },
  };
}

/**
 * CPU maps to the built-in resource metric; the others are per-pod metrics the mlscale server exports on
 * /metrics, which reach the HPA through a custom-metrics adapter (prometheus-adapter).
 */
function hpaMetric(policy: AutoscalingPolicy): Record<string, unknown> {
  const { metric, value } = policy.target;
  if (metric === 'cpuUtilization') {
    return {
      type: 'Resource',
      resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: Math.round(value) } },
    };
  }
  const pods = (name: string, averageValue: string) => ({
    type: 'Pods',
    pods: { metric: { name }, target: { type: 'AverageValue', averageValue } },
  });
  switch (metric) {
    case 'concurrentRequests':
      return pods('nv_inference_pending_request_count', quantity(value));
    case 'requestsPerSecond':
      return pods('nv_inference_request_success_per_second', quantity(value));
    case 'latencyP95':
      return pods('mlscale_request_latency_p95_milliseconds', quantity(value));
    default:
      // nv_gpu_utilization is a 0–1 ratio; the policy's target is percent.
      return pods('nv_gpu_utilization', quantity(value / 100));
  }
}

/** A Kubernetes quantity: whole numbers as they are, fractions in milli-units (0.7 → 700m). */
function quantity(value: number): string {
  return Number.isInteger(value) ? String(value) : `${Math.round(value * 1000)}m`;
}
