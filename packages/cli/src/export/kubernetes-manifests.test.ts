import { deploymentSpecSchema, parseSpec } from '@mlscale/core';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { IService } from 'kubernetes-models/v1/Service';
import { describe, expect, it } from 'vitest';
import { validateManifest } from '../../test/validate-kubernetes.js';
import { renderDockerfile } from './dockerfile.js';
import { renderKubernetesManifests } from './kubernetes-manifests.js';

const spec = (input: Record<string, unknown>) =>
  parseSpec(
    deploymentSpecSchema,
    { name: 'mnist-classifier', model: { uri: '/models/mnist.onnx' }, ...input },
    'spec',
  );

describe('Kubernetes manifests', () => {
  it.each([
    [
      'cpuUtilization',
      70,
      {
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
      },
    ],
    [
      'concurrentRequests',
      4,
      {
        type: 'Pods',
        pods: {
          metric: { name: 'nv_inference_pending_request_count' },
          target: { type: 'AverageValue', averageValue: '4' },
        },
      },
    ],
    [
      'gpuUtilization',
      70,
      {
        type: 'Pods',
        pods: {
          metric: { name: 'nv_gpu_utilization' },
          target: { type: 'AverageValue', averageValue: '700m' },
        },
      },
    ],
    [
      'latencyP95',
      120,
      {
        type: 'Pods',
        pods: {
          metric: { name: 'mlscale_request_latency_p95_milliseconds' },
          target: { type: 'AverageValue', averageValue: '120' },
        },
      },
    ],
  ])('map a %s policy to a valid HPA, with a valid Deployment and Service', (metric, value, expected) => {
    const objects = renderKubernetesManifests(
      spec({
        replicas: 2,
        instance: { accelerator: { type: 'nvidia-tesla-t4', count: 2 } },
        autoscaling: {
          minReplicas: 0,
          maxReplicas: 8,
          target: { metric, value },
          scaleInCooldownSeconds: 600,
        },
        environment: { MODE: 'fast', HF_TOKEN: 'must-not-appear' },
        tags: { 'cost:center': 'ml-', team: 'vision' },
      }),
      { image: 'registry.example/mnist:1', tokenSecret: 'mnist-token', namespace: 'models' },
    );
    for (const object of objects) validateManifest(object);
    const [deployment, service, autoscaler] = objects as unknown as [
      IDeployment,
      IService,
      IHorizontalPodAutoscaler,
    ];
    expect(autoscaler.spec).toMatchObject({
      minReplicas: 1,
      maxReplicas: 8,
      metrics: [expected],
      behavior: { scaleDown: { stabilizationWindowSeconds: 600 } },
    });
    const container = deployment.spec!.template.spec!.containers[0]!;
    expect(container.resources?.limits?.['nvidia.com/gpu']).toBe('2');
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/v2/health/ready', port: 'http' });
    expect(container.livenessProbe?.httpGet).toEqual({ path: '/v2/health/live', port: 'http' });
    expect(container.args).not.toContain('--allow-unauthenticated');
    expect(JSON.stringify(objects)).not.toContain('must-not-appear');
    expect(container.env).toContainEqual({
      name: 'HF_TOKEN',
      valueFrom: { secretKeyRef: { name: 'mnist-classifier-env', key: 'HF_TOKEN' } },
    });
    expect(deployment.metadata?.labels).toMatchObject({
      'cost-center': 'ml',
      team: 'vision',
      'app.kubernetes.io/name': 'mnist-classifier',
    });
    expect(service.spec?.selector).toEqual(deployment.spec?.selector.matchLabels);
  });

  it('rejects what the API would reject: the validator is not a rubber stamp', () => {
    const [deployment] = renderKubernetesManifests(spec({}), { image: 'x' });
    const broken = structuredClone(deployment!) as unknown as IDeployment;
    const port = broken.spec!.template.spec!.containers[0]!.ports![0]!;
    (port as { containerPort: unknown }).containerPort = 'eighty';
    expect(() => validateManifest(broken as { kind: string })).toThrow(/containerPort/);
    const [, service] = renderKubernetesManifests(spec({}), { image: 'x' });
    expect(() => validateManifest(service!)).not.toThrow();
  });

  it('writes a Dockerfile that serves the model from /opt/ml/model with the spec batching', () => {
    const dockerfile = renderDockerfile(spec({ batching: { maxBatchSize: 64 } }), { version: '0.1.0' });
    expect(dockerfile).toContain('@mlscale/cli@0.1.0 @mlscale/local-gpu@0.1.0');
    // A CPU image skips onnxruntime-node's CUDA download; one with an accelerator asks for CUDA 12.
    expect(dockerfile).toContain('ENV ONNXRUNTIME_NODE_INSTALL=skip\nRUN npm install');
    expect(dockerfile).toContain('"--device","cpu"');
    const gpu = renderDockerfile(spec({ instance: { accelerator: { type: 'nvidia-l4', count: 1 } } }), {
      version: '0.1.0',
    });
    expect(gpu).toContain('ENV ONNXRUNTIME_NODE_INSTALL=cuda12');
    expect(dockerfile).toContain('"--max-batch-size","64"');
    expect(dockerfile).toContain('ENTRYPOINT ["/app/node_modules/.bin/mlscale"]');
    expect(dockerfile).toMatch(/HEALTHCHECK .*\/v2\/health\/ready/);
  });
});
