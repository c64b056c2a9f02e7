import { createHash } from 'node:crypto';
import { deploymentSpecSchema } from '@mlscale/core';
import {
  type DeploymentRecord,
  encodeDeploymentRecord,
  markStarted,
  requestSpec,
} from '@mlscale/core/provider-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdapterContext } from '../src/adapter/adapter-context.js';
import { createAwsCaller } from '../src/adapter/aws-clients.js';
import { type DeploymentObservation, observeDeployment } from '../src/adapter/deployment-observation.js';
import { saveRecord } from '../src/adapter/endpoint-record.js';
import { createArtifactStore } from '../src/adapter/s3-artifacts.js';
import { resolveSageMakerSettings } from '../src/adapter/sagemaker-settings.js';
import { awsConformanceCloud } from '../src/emulator/index.js';
import { type Harness, startHarness } from './emulator-harness.js';

let harness: Harness;
/** The adapter's own context, as sagemaker() builds it: what two processes' record stores share. */
let context: AdapterContext;
beforeAll(async () => {
  harness = await startHarness();
  const settings = resolveSageMakerSettings(harness.settings);
  const aws = createAwsCaller(settings);
  context = { provider: 'aws', settings, aws, artifacts: createArtifactStore(settings, aws) };
});
afterAll(async () => {
  context.aws.destroy();
  await harness.close();
});

const modelUri = 's3://mlscale-models/mnist/model.tar.gz';
/** SageMaker tag values hold 256 characters: the record's text is cut into chunks of that length. */
const chunksOf = (record: DeploymentRecord) => Math.ceil(encodeDeploymentRecord(record).length / 256);

async function observed(name: string): Promise<DeploymentObservation> {
  const reading = await observeDeployment(context, name, undefined);
  if (reading.kind !== 'managed') throw new Error(`${name} reads as ${reading.kind}`);
  return reading.observation;
}

/** A spec whose record takes several more chunks than a plain one: many environment values. */
function largerSpec(name: string) {
  return deploymentSpecSchema.parse({
    name,
    model: { uri: 's3://mlscale-models/mnist-v2/model.tar.gz' },
    environment: Object.fromEntries(
      Array.from({ length: 24 }, (_, index) => [
        `SETTING_${index}`,
        `${index}-${Math.random().toString(36)}`,
      ]),
    ),
  });
}

/**
 * Two processes read the endpoint at the same moment and each saves its own record (a doUpdate's new
 * spec, a waiter's markStarted). The second save runs whole right after the first one's AddTags took
 * effect, before the first deletes what it thinks is stale: the interleaving that mixed chunks of two
 * records, or deleted chunks the other had just written.
 */
async function interleavedSaves(
  name: string,
  records: (snapshot: DeploymentRecord) => { first: DeploymentRecord; second: DeploymentRecord },
) {
  const firstView = await observed(name);
  const secondView = await observed(name);
  const snapshot = firstView.record;
  const { first, second } = records(snapshot);
  let interleaved = false;
  const stop = harness.emulator.onRequest(async ({ operation }) => {
    if (operation !== 'AddTags' || interleaved) return;
    interleaved = true;
    await saveRecord(context, secondView, second, undefined);
  });
  try {
    await saveRecord(context, firstView, first, undefined);
  } finally {
    stop();
  }
  expect(interleaved, 'the second save ran inside the first').toBe(true);
  return { first, second, snapshot };
}

/** The record reads whole (the last AddTags wins), and the deployment stays deletable. */
async function expectWholeRecord(name: string, expected: DeploymentRecord) {
  const reading = await observeDeployment(context, name, undefined);
  expect(reading.kind, 'the endpoint still reads as an mlscale deployment').toBe('managed');
  if (reading.kind !== 'managed') return;
  expect(reading.observation.record.desiredHash).toBe(expected.desiredHash);
  expect(reading.observation.record.started).toBe(expected.started);
  expect(Object.keys(reading.observation.tags).length).toBeLessThanOrEqual(50);
  // The next save removes what the race left: the generation it replaces stays, no other.
  await harness.client.update({ name, replicas: 2 }, { wait: false });
  const after = await observed(name);
  const generations = new Set(
    Object.keys(after.tags)
      .map((key) => /^mlscale:record-([0-9a-f]+)-\d+$/.exec(key)?.[1])
      .filter(Boolean),
  );
  expect(generations.size).toBe(2);
  expect(after.record.desired.replicas).toBe(2);
  expect(await harness.client.delete(name)).toEqual({ deleted: true });
  expect(await awsConformanceCloud(harness.emulator).resources(name)).toEqual([]);
}

describe('two processes saving the record at the same moment', () => {
  it('a larger record, then a waiter’s markStarted of the same size as the one read: one whole record', async () => {
    const name = 'save-race-mix';
    // A build id makes the record take two chunks, with room for what markStarted adds.
    const build = createHash('sha256').update(name).digest('hex');
    await harness.client.deploy({ name, model: { uri: modelUri }, environment: { BUILD_SHA: build } });
    const { second, snapshot } = await interleavedSaves(name, (snapshot) => ({
      first: requestSpec(snapshot, largerSpec(name)),
      second: markStarted(snapshot),
    }));
    // The scenario: the waiter's record takes as many chunks as the one both read.
    expect(chunksOf(second)).toBe(chunksOf(snapshot));
    await expectWholeRecord(name, second);
  });

  it('a smaller record, then a larger one: the first save’s cleanup does not delete the second’s chunks', async () => {
    const name = 'save-race-stale';
    await harness.client.deploy({ name, model: { uri: modelUri } });
    // Start from a record of several chunks, so the first save below shrinks it.
    const grown = await observed(name);
    await saveRecord(context, grown, requestSpec(grown.record, largerSpec(name)), undefined);
    const { first, second, snapshot } = await interleavedSaves(name, (snapshot) => ({
      first: requestSpec(
        snapshot,
        deploymentSpecSchema.parse({ name, model: { uri: modelUri }, replicas: 2 }),
      ),
      second: requestSpec(snapshot, largerSpec(name)),
    }));
    expect(chunksOf(first)).toBeLessThan(chunksOf(snapshot));
    expect(chunksOf(second)).toBeGreaterThan(chunksOf(first));
    await expectWholeRecord(name, second);
  });
});
