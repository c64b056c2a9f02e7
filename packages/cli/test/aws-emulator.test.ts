import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AwsEmulator, startAwsEmulator } from '@mlscale/aws/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInProcess } from './in-process.js';

/**
 * The CLI's real backend registry loads @mlscale/aws, whose sagemaker() drives the official AWS SDK
 * clients over the wire against the package's SageMaker emulator on loopback.
 */
describe('plan / apply / destroy against the AWS SageMaker emulator', () => {
  let emulator: AwsEmulator;
  const directory = mkdtempSync(join(tmpdir(), 'mlscale-aws-'));
  const config = (replicas: number, instanceType: string) => `backends:
  aws:
    region: us-east-1
    endpoint: \${env:SAGEMAKER_EMULATOR_URL}
    roleArn: arn:aws:iam::123456789012:role/mlscale-test
    servingImage: 123456789012.dkr.ecr.us-east-1.amazonaws.com/mlscale-server:0.1.0
    credentials: { accessKeyId: "\${env:TEST_ACCESS_KEY_ID}", secretAccessKey: "\${env:TEST_SECRET_ACCESS_KEY}" }
    maxAttempts: 1
deployments:
  - name: mnist-sagemaker
    model: { uri: s3://mlscale-models/mnist/model.tar.gz }
    instance: { type: ${instanceType} }
    replicas: ${replicas}
`;
  let env: Record<string, string>;

  beforeAll(async () => {
    emulator = await startAwsEmulator();
    env = {
      SAGEMAKER_EMULATOR_URL: emulator.url,
      TEST_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      TEST_SECRET_ACCESS_KEY: 'not-a-real-secret-key',
    };
  });
  afterAll(async () => {
    await emulator.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('creates, prices, plans no changes, updates replicas in place, predicts and destroys', async () => {
    const run = (args: string[], input?: string) =>
      runInProcess(args, {
        cwd: directory,
        env,
        polling: { minDelayMs: 20, maxDelayMs: 200 },
        ...(input ? { input } : {}),
      });
    writeFileSync(join(directory, 'mlscale.yaml'), config(1, 'ml.m5.xlarge'));
    const planned = await run(['plan', '--json']);
    expect(planned.code, planned.stderr).toBe(0);
    const first = JSON.parse(planned.stdout) as {
      changes: { action: string; cost: { hourly: { minimum: number } } }[];
    };
    expect(first.changes[0]).toMatchObject({ action: 'create', cost: { hourly: { minimum: 0.23 } } });

    const applied = await run(['apply', '--yes']);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect(applied.stdout).not.toContain('not-a-real-secret-key');
    const again = await run(['plan', '--detailed-exitcode']);
    expect(again.code, again.stdout).toBe(0);

    writeFileSync(join(directory, 'mlscale.yaml'), config(2, 'ml.m5.xlarge'));
    const scaled = JSON.parse((await run(['plan', '--json'])).stdout) as {
      changes: { action: string; changes: unknown[] }[];
    };
    expect(scaled.changes[0]).toMatchObject({
      action: 'update',
      changes: [{ path: 'replicas', before: 1, after: 2 }],
    });
    expect((await run(['apply', '--yes'])).code).toBe(0);
    const status = JSON.parse((await run(['status', '--json'])).stdout) as {
      resources: { state: string; replicas: string }[];
    };
    expect(status.resources[0]).toMatchObject({ state: 'InService', replicas: { ready: 2, desired: 2 } });

    const prediction = await run(
      ['predict', 'mnist-sagemaker', '--data', '-', '--json'],
      JSON.stringify({
        inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }],
      }),
    );
    expect(prediction.code, prediction.stderr).toBe(0);
    // The emulator's built-in model sums each row.
    expect(
      (JSON.parse(prediction.stdout) as { outputs: { name: string; data: number[] }[] }).outputs.find(
        (output) => output.name === 'sum',
      )?.data,
    ).toEqual([6, 15]);

    const destroyed = await run(['destroy', '--yes']);
    expect(destroyed.code, destroyed.stderr).toBe(0);
    const after = JSON.parse((await run(['plan', '--json'])).stdout) as { changes: { action: string }[] };
    expect(after.changes.map((row) => row.action)).toEqual(['create']);
  }, 120_000);

  it("plans a rollout SageMaker cannot express as a conflict with the backend's message, and apply sends nothing", async () => {
    const folder = mkdtempSync(join(directory, 'refused-'));
    const run = (args: string[]) =>
      runInProcess(args, { cwd: folder, env, polling: { minDelayMs: 20, maxDelayMs: 200 } });
    writeFileSync(
      join(folder, 'mlscale.yaml'),
      `${config(1, 'ml.m5.xlarge').replace('mnist-sagemaker', 'mnist-canary')}    rollout: { steps: [60, 100] }\n`,
    );
    const before = emulator.calls().length;
    const planned = await run(['plan', '--json']);
    expect(planned.code, planned.stderr).toBe(0);
    const row = (JSON.parse(planned.stdout) as { changes: { action: string; reason?: string }[] }).changes[0];
    expect(row?.action).toBe('conflict');
    expect(row?.reason).toMatch(/^the aws backend refuses it: rollout\.steps/);
    const applied = await run(['apply', '--yes']);
    expect(applied.code).toBe(1);
    expect(applied.stderr).toContain('conflicts apply cannot resolve');
    const after = JSON.parse((await run(['plan', '--json'])).stdout) as { changes: { action: string }[] };
    expect(after.changes.map((change) => change.action)).toEqual(['conflict']);
    // Only reads reached SageMaker: nothing was created to fail there.
    const sent = emulator
      .calls()
      .slice(before)
      .map((call) => call.operation);
    expect(sent.filter((operation) => !/^(Describe|List)/.test(operation))).toEqual([]);
    expect(emulator.inventory().endpoints).not.toContain('mnist-canary');
  }, 60_000);
});
