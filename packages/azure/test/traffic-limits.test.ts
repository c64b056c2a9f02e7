import type { OnlineEndpoint } from '@azure/arm-machinelearning';
import { type DeploymentSpec, deploymentSpecSchema, MlscaleError, parseSpec } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { azureml } from '../src/index.js';
import { type EmulatedBackend, startEmulatedBackend } from './emulated-backend.js';

let backend: EmulatedBackend;

beforeAll(async () => {
  backend = await startEmulatedBackend();
});

afterAll(() => backend.close());

/** A parsed spec, as the client hands it to the backend. */
const spec = (input: Record<string, unknown>): DeploymentSpec =>
  parseSpec(
    deploymentSpecSchema,
    { name: 'limits-api', model: { name: 'limits', version: 1 }, ...input },
    'deployment spec',
  );

const split = (first: number, second: number) => [
  { model: { name: 'limits', version: 1 }, weight: first },
  { model: { name: 'limits', version: 2 }, weight: second },
];

describe("validateSpec: what the endpoint's traffic map cannot express", () => {
  const { deployments } = azureml({ subscriptionId: 's', resourceGroup: 'g', workspace: 'w' });

  it('accepts whole percentages, as rollout steps and as split weights', () => {
    expect(deployments.validateSpec?.(spec({ rollout: { steps: [5, 50, 100] } }))).toEqual([]);
    expect(deployments.validateSpec?.(spec({ traffic: split(90, 10) }))).toEqual([]);
    expect(deployments.validateSpec?.(spec({}))).toEqual([]);
  });

  it('refuses fractions, naming the field and what Azure ML takes', () => {
    const issues = deployments.validateSpec?.(
      spec({ traffic: split(87.5, 12.5), rollout: { steps: [12.5, 100] } }),
    );
    expect(issues?.map((issue) => issue.path)).toEqual([
      'rollout.steps[0]',
      'traffic[0].weight',
      'traffic[1].weight',
    ]);
    expect(issues?.[2]?.message).toMatch(
      /^expected a whole percentage, got 12.5: Azure ML's endpoint traffic map/,
    );
    expect(issues?.[0]?.message).toContain(
      'integer percentages per deployment adding up to 100; use 12 or 13',
    );
  });

  it('refuses them before any request, through the client and when the backend is called directly', async () => {
    const { emulator, client } = backend;
    const start = emulator.requests.length;
    const viaClient = await client
      .deploy({ name: 'limits-api', model: { name: 'limits', version: 1 }, traffic: split(87.5, 12.5) })
      .catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(viaClient, 'InvalidSpec')).toBe(true);
    expect((viaClient as MlscaleError).issues.map((issue) => issue.path)).toEqual([
      'traffic[0].weight',
      'traffic[1].weight',
    ]);
    const direct = azureml(emulator.settings).deployments;
    for (const call of [direct.doCreate, direct.doUpdate]) {
      const refused = await call(spec({ rollout: { steps: [2.5, 100] } }), {}).catch(
        (caught: unknown) => caught,
      );
      expect(MlscaleError.hasCode(refused, 'InvalidSpec')).toBe(true);
      expect((refused as MlscaleError).message).toContain(
        'rollout.steps[0]: expected a whole percentage, got 2.5',
      );
    }
    expect(emulator.requests.length).toBe(start);
  });
});

describe('the emulator refuses the traffic maps Azure refuses, with BadArgument (mirror traffic: emulator-rules)', () => {
  /** The endpoint as the adapter left it, and a PUT of it with other traffic maps through the SDK. */
  async function endpointWriter() {
    const { client, registerVersion, emulator } = backend;
    await registerVersion('mixed');
    await registerVersion('mixed');
    await client.deploy({
      name: 'mixed-api',
      model: { name: 'mixed', version: 1 },
      traffic: [
        { model: { name: 'mixed', version: 1 }, weight: 90 },
        { model: { name: 'mixed', version: 2 }, weight: 10 },
      ],
    });
    const clients = await azureml(emulator.settings).clients();
    const { resourceGroup, workspace } = emulator.settings;
    const endpoints = clients.machineLearning.onlineEndpoints;
    const current = await endpoints.get(resourceGroup, workspace, 'mixed-api');
    return (properties: Partial<OnlineEndpoint['properties']>) =>
      endpoints
        .beginCreateOrUpdateAndWait(resourceGroup, workspace, 'mixed-api', {
          ...current,
          properties: { ...current.properties, ...properties },
        })
        .then(
          () => ({ code: 'accepted', message: '' }),
          (caught: { code?: string; statusCode?: number; message: string }) => ({
            code: `${caught.statusCode} ${caught.code}`,
            message: caught.message,
          }),
        );
  }

  it('refuses live traffic that is not whole percentages summing to 100, sent by the SDK the adapter uses', async () => {
    const put = await endpointWriter();
    expect(await put({ traffic: { 'mixed-v1': 60, 'mixed-v2': 30 } })).toEqual({
      code: '400 BadArgument',
      message: 'properties.traffic: Traffic values need to sum to 100; they sum to 90.',
    });
    expect(await put({ traffic: { 'mixed-v1': 87.5, 'mixed-v2': 12.5 } })).toEqual({
      code: '400 BadArgument',
      message: 'properties.traffic.mixed-v1: Traffic values are whole percentages from 0 to 100; got 87.5.',
    });
    expect(await put({ traffic: { 'mixed-v1': 10, 'mixed-v2': 90 } })).toEqual({
      code: 'accepted',
      message: '',
    });
  });
});
