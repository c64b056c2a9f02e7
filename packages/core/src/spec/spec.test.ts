import { describe, expect, it } from 'vitest';
import { MlscaleError } from '../errors.js';
import {
  alertRuleSchema,
  deploymentSpecSchema,
  metricQuerySchema,
  parseSpec,
  predictRequestSchema,
  registerModelSchema,
  trainingJobSpecSchema,
} from './index.js';

function issuesOf(run: () => unknown): { path: string; message: string }[] {
  try {
    run();
  } catch (error) {
    if (MlscaleError.hasCode(error, 'InvalidSpec')) return [...error.issues];
    throw error;
  }
  throw new Error('expected InvalidSpec');
}

const validDeployment = {
  name: 'mnist-classifier',
  model: { uri: './models/mnist.onnx' },
};

describe('deployment spec', () => {
  it('accepts a minimal spec and applies defaults', () => {
    const spec = parseSpec(deploymentSpecSchema, validDeployment, 'deployment spec');
    expect(spec.replicas).toBe(1);
    expect(spec.model).toEqual({ uri: './models/mnist.onnx', format: 'onnx' });
  });

  it('accepts a full spec', () => {
    const spec = parseSpec(
      deploymentSpecSchema,
      {
        name: 'fraud-v2',
        model: { name: 'fraud', version: 3 },
        instance: { type: 'ml.g5.xlarge', accelerator: { type: 'nvidia-a10g' } },
        replicas: 2,
        autoscaling: { minReplicas: 1, maxReplicas: 8, target: { metric: 'requestsPerSecond', value: 200 } },
        traffic: [
          { model: { name: 'fraud', version: 3 }, weight: 90 },
          { model: { name: 'fraud', version: 4 }, weight: 10 },
        ],
        rollout: { steps: [5, 25, 100], stepSeconds: 60 },
        batching: { maxBatchSize: 64 },
        environment: { LOG_LEVEL: 'debug' },
        network: { subnets: ['subnet-1'], securityGroups: ['sg-1'], private: true },
        encryption: { keyId: 'arn:aws:kms:eu-west-1:123:key/abc' },
        tags: { team: 'risk', 'cost-center': 'ml-42' },
        providerOptions: { aws: { variantName: 'primary' } },
      },
      'deployment spec',
    );
    expect(spec.autoscaling?.scaleInCooldownSeconds).toBe(300);
    expect(spec.autoscaling?.tolerance).toBe(0.1);
    expect(spec.instance?.accelerator?.count).toBe(1);
    expect(spec.batching?.maxQueueDelayMs).toBe(2);
  });

  it.each([
    ['name', { name: 'Bad_Name' }, 'DNS label'],
    ['name', { name: 'ab' }, 'at least 3'],
    ['name', { name: `a${'b'.repeat(40)}` }, 'at most 32'],
    ['name', { name: 'ends-with-' }, 'DNS label'],
    ['replicas', { replicas: -1 }, '>=0'],
    ['replicas', { replicas: 1.5 }, 'int'],
    ['model', { model: { path: 'x' } }, 'expected { name, version? }'],
    ['model.version', { model: { name: 'mnist', version: 0 } }, ''],
    ['instance.accelerator.count', { instance: { accelerator: { type: 'gpu', count: 0 } } }, ''],
    [
      'autoscaling.minReplicas',
      {
        replicas: 1,
        autoscaling: { minReplicas: 5, maxReplicas: 2, target: { metric: 'latencyP95', value: 100 } },
      },
      'at most maxReplicas',
    ],
    [
      'autoscaling.target.metric',
      { autoscaling: { minReplicas: 1, maxReplicas: 2, target: { metric: 'vibes', value: 1 } } },
      'concurrentRequests',
    ],
    [
      'autoscaling.target.value',
      { autoscaling: { minReplicas: 1, maxReplicas: 2, target: { metric: 'latencyP95', value: 0 } } },
      'above 0',
    ],
    [
      'replicas',
      {
        replicas: 9,
        autoscaling: { minReplicas: 1, maxReplicas: 4, target: { metric: 'latencyP95', value: 50 } },
      },
      'within autoscaling bounds',
    ],
    [
      'traffic',
      {
        traffic: [
          { model: { name: 'a-model', version: 1 }, weight: 60 },
          { model: { name: 'a-model', version: 2 }, weight: 30 },
        ],
      },
      'adding up to 100',
    ],
    ['traffic[0].weight', { traffic: [{ model: { name: 'a-model' }, weight: 120 }] }, ''],
    ['rollout.steps', { rollout: { steps: [10, 50] } }, 'last step to be 100'],
    ['environment.1BAD', { environment: { '1BAD': 'x' } }, 'environment variable name'],
    ['tags.Team', { tags: { Team: 'x' } }, 'tag key'],
    ['(root)', { colour: 'blue' }, 'unknown field "colour"'],
    ['providerOptions', { providerOptions: { ibm: {} } }, 'unknown field "ibm"'],
    ['serverless', { serverless: {}, instance: { accelerator: { type: 'gpu' } } }, 'no GPUs'],
    ['network.private', { network: { private: 'yes' } }, 'expected boolean'],
  ])('rejects a bad %s', (path, patch, message) => {
    const issues = issuesOf(() =>
      parseSpec(deploymentSpecSchema, { ...validDeployment, ...patch }, 'deployment spec'),
    );
    const issue = issues.find((candidate) => candidate.path === path);
    expect(issue, `issues were ${JSON.stringify(issues)}`).toBeDefined();
    expect(issue!.message).toContain(message);
  });

  it('names every bad field at once in the message', () => {
    try {
      parseSpec(
        deploymentSpecSchema,
        { name: 'X', model: { uri: '' }, replicas: 'three' },
        'deployment spec',
      );
      expect.unreachable();
    } catch (error) {
      expect(MlscaleError.hasCode(error, 'InvalidSpec')).toBe(true);
      const message = (error as Error).message;
      expect(message).toContain('Invalid deployment spec');
      expect(message).toContain('name:');
      expect(message).toContain('model');
      expect(message).toContain('replicas: expected number');
    }
  });
});

describe('training job spec', () => {
  const valid = { name: 'train-mnist', command: ['node', 'train.js'] };

  it('accepts a job and applies defaults', () => {
    const spec = parseSpec(
      trainingJobSpecSchema,
      { ...valid, hyperparameters: { epochs: 5, lr: 0.1, shuffle: true } },
      'job',
    );
    expect(spec.resources).toEqual({ instanceCount: 1, gpus: 0 });
    expect(spec.inputs).toEqual({});
    expect(spec.hyperparameters.epochs).toBe(5);
  });

  it('accepts distribution, spot and metric definitions', () => {
    const spec = parseSpec(
      trainingJobSpecSchema,
      {
        ...valid,
        inputs: { train: { uri: './data/train' } },
        distribution: { processesPerNode: 2, nodes: 2 },
        spot: { maxWaitSeconds: 7200, checkpointPath: './checkpoints' },
        maxRuntimeSeconds: 3600,
        metricDefinitions: [{ name: 'loss', regex: 'loss=([0-9.]+)' }],
      },
      'job',
    );
    expect(spec.inputs.train?.mode).toBe('copy');
    expect(spec.distribution).toEqual({ processesPerNode: 2, nodes: 2 });
  });

  it.each([
    ['command', { command: undefined }, 'a command, an image, or both'],
    ['command', { command: [] }, 'at least the program'],
    ['inputs.train-data', { inputs: { 'train-data': { uri: './d' } } }, 'channel name'],
    ['inputs.train.mode', { inputs: { train: { uri: './d', mode: 'pipe' } } }, ''],
    [
      'metricDefinitions[0].regex',
      { metricDefinitions: [{ name: 'loss', regex: '([' }] },
      'valid regular expression',
    ],
    [
      'spot.maxWaitSeconds',
      { spot: { maxWaitSeconds: 60 }, maxRuntimeSeconds: 3600 },
      'at least maxRuntimeSeconds',
    ],
    ['distribution.nodes', { distribution: { nodes: 0 } }, ''],
    ['resources.gpus', { resources: { gpus: -1 } }, ''],
  ])('rejects a bad %s', (path, patch, message) => {
    const issues = issuesOf(() => parseSpec(trainingJobSpecSchema, { ...valid, ...patch }, 'job'));
    const issue = issues.find((candidate) => candidate.path === path);
    expect(issue, `issues were ${JSON.stringify(issues)}`).toBeDefined();
    expect(issue!.message).toContain(message);
  });
});

describe('monitoring, models and predict', () => {
  it('parses a metric query with dates as strings', () => {
    const query = parseSpec(
      metricQuerySchema,
      {
        target: { deployment: 'mnist-classifier' },
        names: ['invocations', 'latencyP99'],
        from: '2026-11-01T00:00:00Z',
      },
      'query',
    );
    expect(query.from).toBeInstanceOf(Date);
    expect(query.periodSeconds).toBe(60);
  });

  it('rejects a query with from after to, an unknown target and no names', () => {
    const issues = issuesOf(() =>
      parseSpec(
        metricQuerySchema,
        { target: { endpoint: 'x' }, names: [], from: '2026-11-02', to: '2026-11-01' },
        'query',
      ),
    );
    expect(issues.map((issue) => issue.path)).toEqual(expect.arrayContaining(['target', 'names']));
  });

  it('validates alert rules', () => {
    const rule = parseSpec(
      alertRuleSchema,
      {
        name: 'high-latency',
        target: { deployment: 'mnist-classifier' },
        metric: 'latencyP99',
        comparator: '>',
        threshold: 250,
      },
      'alert',
    );
    expect(rule.forSeconds).toBe(60);
    const issues = issuesOf(() =>
      parseSpec(
        alertRuleSchema,
        {
          name: 'bad-rule',
          target: { deployment: 'abc' },
          metric: 'latencyP99',
          comparator: '!=',
          threshold: Number.NaN,
          webhookUrl: 'ftp://x',
        },
        'alert',
      ),
    );
    expect(issues.map((issue) => issue.path)).toEqual(
      expect.arrayContaining(['comparator', 'threshold', 'webhookUrl']),
    );
  });

  it('validates model registrations', () => {
    const registration = parseSpec(
      registerModelSchema,
      { name: 'mnist', path: './model.onnx', lineage: { jobName: 'train-1' } },
      'model',
    );
    expect(registration.format).toBe('onnx');
    const issues = issuesOf(() =>
      parseSpec(registerModelSchema, { name: 'mnist', path: '', format: 'pickle' }, 'model'),
    );
    expect(issues.map((issue) => issue.path)).toEqual(expect.arrayContaining(['path', 'format']));
  });

  it('checks tensor data length against the shape', () => {
    const issues = issuesOf(() =>
      parseSpec(
        predictRequestSchema,
        { inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 3], data: [1, 2, 3] }] },
        'request',
      ),
    );
    expect(issues[0]).toEqual({
      path: 'inputs[0].data',
      message: 'expected 6 values for shape [2, 3], got 3',
    });
  });
});
