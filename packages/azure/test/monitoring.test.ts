import { createMlscale, type MlscaleClient, MlscaleError } from '@mlscale/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  type AzureMlEmulator,
  rowSumPredictor,
  ScoringError,
  startAzureMlEmulator,
} from '../src/emulator/index.js';
import { azureml } from '../src/index.js';

let emulator: AzureMlEmulator;
let client: MlscaleClient;
const request = { inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [1, 1], data: [1] }] };

beforeAll(async () => {
  emulator = await startAzureMlEmulator({
    // A careless server that echoes the request it could not read, secrets included.
    predictor: (body, context) => {
      try {
        return rowSumPredictor(body, context);
      } catch (error) {
        throw new ScoringError(400, `${(error as Error).message}; got ${JSON.stringify(body)}`);
      }
    },
  });
  client = createMlscale({
    backend: azureml(emulator.settings),
    polling: { minDelayMs: 20, maxDelayMs: 200 },
  });
  await client.models.register({
    name: 'watched',
    path: 'azureml://datastores/workspaceblobstore/paths/watched/model.onnx',
  });
  await client.deploy({ name: 'watched-api', model: { name: 'watched' }, replicas: 2 });
  for (let index = 0; index < 6; index++) await client.predict('watched-api', request);
  // A bad request: the predictor answers 400, which Azure Monitor counts as a 4xx.
  await client
    .predict('watched-api', {
      inputs: [{ name: 'x', datatype: 'BYTES', shape: [1], data: ['not a number'] }],
    })
    .catch(() => undefined);
});

afterAll(async () => {
  await emulator.close();
});

it('maps normalized metric names to Azure Monitor metrics of the endpoint and deployment', async () => {
  const start = emulator.requests.length;
  const result = await client.metrics({
    target: { deployment: 'watched-api' },
    names: [
      'invocations',
      'errors4xx',
      'errors5xx',
      'latencyP50',
      'replicas',
      'cpuUtilization',
      'gpuUtilization',
      'queueDepth',
    ],
    from: new Date(Date.now() - 10 * 60_000),
    periodSeconds: 60,
    stat: 'sum',
  });
  expect(result.periodSeconds).toBe(60);
  const byName = Object.fromEntries(result.series.map((series) => [series.name, series]));
  const total = (name: string) =>
    (byName[name]?.values ?? []).reduce<number>((sum, value) => sum + (value ?? 0), 0);
  expect(total('invocations')).toBe(7);
  expect(total('errors4xx')).toBe(1);
  expect(total('errors5xx')).toBe(0);
  expect(byName.latencyP50?.values.some((value) => value !== null && value >= 0)).toBe(true);
  expect(byName.replicas?.values.filter((value) => value !== null).at(-1)).toBe(2);
  expect(byName.gpuUtilization?.values.every((value) => value === null)).toBe(true);
  expect(result.absent).toEqual([{ name: 'queueDepth', reason: expect.stringContaining('no metric') }]);
  for (const series of result.series) expect(series.timestamps.length).toBe(series.values.length);
  const calls = emulator.requests
    .slice(start)
    .filter((item) => item.path.endsWith('/providers/Microsoft.Insights/metrics'));
  expect(calls.every((item) => item.apiVersion === '2018-01-01')).toBe(true);
  expect(
    calls.some((item) => item.path.includes('/onlineEndpoints/watched-api/deployments/watched-v1/')),
  ).toBe(true);

  const job = await client.metrics({ target: { job: 'some-job' }, names: ['loss'] });
  expect(job.absent?.[0]?.reason).toContain('MLflow');
  const missing = await client
    .metrics({ target: { deployment: 'nowhere' }, names: ['invocations'] })
    .catch((caught: unknown) => caught);
  expect(MlscaleError.hasCode(missing, 'NotFound')).toBe(true);
});

it('evaluates alert rules over the metrics, client-side', async () => {
  const firing = await client.alerts.put({
    name: 'traffic-seen',
    target: { deployment: 'watched-api' },
    metric: 'invocations',
    stat: 'sum',
    comparator: '>',
    threshold: 0,
    forSeconds: 0,
    periodSeconds: 60,
  });
  expect(firing.state).toBe('firing');
  expect(firing.lastValue).toBeGreaterThan(0);
  const quiet = await client.alerts.put({
    name: 'too-many-errors',
    target: { deployment: 'watched-api' },
    metric: 'errors5xx',
    stat: 'sum',
    comparator: '>',
    threshold: 5,
  });
  expect(quiet.state).toBe('ok');
  expect((await client.alerts.list()).map((alert) => alert.rule.name).sort()).toEqual([
    'too-many-errors',
    'traffic-seen',
  ]);
  expect(await client.alerts.delete('traffic-seen')).toEqual({ deleted: true });
  expect(await client.alerts.delete('traffic-seen')).toEqual({ deleted: false });
});

it('keeps keys and tokens out of errors', async () => {
  const keys = await (await azureml(emulator.settings).clients()).machineLearning.onlineEndpoints.listKeys(
    emulator.settings.resourceGroup,
    emulator.settings.workspace,
    'watched-api',
  );
  const error = await client
    .predict('watched-api', {
      inputs: [{ name: 'x', datatype: 'BYTES', shape: [1], data: [`Bearer ${keys.primaryKey}`] }],
    })
    .catch((caught: unknown) => caught);
  expect(MlscaleError.hasCode(error, 'InvalidSpec')).toBe(true);
  expect((error as Error).message).toContain('Bearer [redacted]');
  expect(
    JSON.stringify({ message: (error as Error).message, json: (error as MlscaleError).toJSON() }),
  ).not.toContain(keys.primaryKey);
});
