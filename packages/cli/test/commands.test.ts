import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInMemoryBackend } from '@mlscale/core/test';
import { afterAll, describe, expect, it } from 'vitest';
import type { BackendResolver } from '../src/backends/backend-pool.js';
import { resolveBackend } from '../src/backends/resolve-backend.js';
import { runInProcess } from './in-process.js';

const directories: string[] = [];
function project(config: string, file = 'mlscale.yaml'): string {
  const directory = mkdtempSync(join(tmpdir(), 'mlscale-commands-'));
  directories.push(directory);
  writeFileSync(join(directory, 'model.onnx'), 'x');
  writeFileSync(join(directory, file), config);
  return directory;
}
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

const fileConfig = `backends: { test: { provider: file, path: ./cloud.json } }
trainingJobs:
  - name: train-mnist
    command: [python, train.py]
deployments:
  - name: mnist-classifier
    model: { uri: ./model.onnx }
`;

describe('read commands against the file backend', () => {
  it('shows status, jobs, logs, metrics and predictions as text and as JSON', async () => {
    const cwd = project(fileConfig);
    expect((await runInProcess(['apply', '--yes'], { cwd })).code).toBe(0);

    const status = await runInProcess(['status'], { cwd });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(
      /mnist-classifier\s+deployment\s+test\s+InService\s+1\/1\s+file:\/\/mnist-classifier/,
    );
    const statusJson = JSON.parse((await runInProcess(['status', '--json'], { cwd })).stdout) as {
      resources: { name: string; state: string; replicas?: unknown }[];
    };
    expect(statusJson.resources.map((row) => `${row.name} ${row.state}`)).toEqual([
      'train-mnist Completed',
      'mnist-classifier InService',
    ]);
    // Numbers as numbers, for scripts.
    expect(statusJson.resources[1]?.replicas).toEqual({ ready: 1, desired: 1 });
    // One resource, its whole status.
    const one = await runInProcess(['status', 'mnist-classifier', '--json'], { cwd });
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout)).toMatchObject({
      kind: 'deployment',
      backend: 'test',
      status: { name: 'mnist-classifier', state: 'InService', replicas: { ready: 1, desired: 1 } },
    });
    const oneText = await runInProcess(['status', 'train-mnist'], { cwd });
    expect(oneText.stdout).toMatch(/^trainingJob train-mnist \(backend test\)\n {2}name: train-mnist\n/);
    expect(oneText.stdout).toContain('  state: Completed');
    expect((await runInProcess(['status', 'nope'], { cwd })).code).toBe(2);
    const watch = await runInProcess(['status', '--watch', '--count', '2', '--interval', '50ms', '--json'], {
      cwd,
    });
    expect(
      watch.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as object),
    ).toHaveLength(2);

    const jobs = await runInProcess(['jobs'], { cwd });
    expect(jobs.stdout).toMatch(/train-mnist\s+test\s+Completed/);
    const jobsJson = JSON.parse((await runInProcess(['jobs', '--json'], { cwd })).stdout) as {
      jobs: { name: string; state: string }[];
    };
    expect(jobsJson.jobs).toEqual([expect.objectContaining({ name: 'train-mnist', state: 'Completed' })]);

    const logs = await runInProcess(['logs', 'mnist-classifier', '--json'], { cwd });
    expect(
      logs.stdout
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { message: string }).message),
    ).toEqual(['createDeployment mnist-classifier']);
    expect((await runInProcess(['logs', 'nope'], { cwd })).code).toBe(2);

    const metrics = JSON.parse(
      (
        await runInProcess(
          ['metrics', 'mnist-classifier', '--since', '10m', '--names', 'invocations', '--json'],
          { cwd },
        )
      ).stdout,
    ) as { series: { name: string; values: number[] }[] };
    expect(metrics.series.map((series) => [series.name, series.values.length])).toEqual([
      ['invocations', 10],
    ]);

    const request = JSON.stringify({
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }],
    });
    const prediction = await runInProcess(['predict', 'mnist-classifier', '--data', '-', '--json'], {
      cwd,
      input: request,
    });
    expect(prediction.code, prediction.stderr).toBe(0);
    expect((JSON.parse(prediction.stdout) as { outputs: { data: number[] }[] }).outputs[0]?.data).toEqual([
      2, 4, 6,
    ]);
    writeFileSync(join(cwd, 'request.json'), request);
    expect(
      (await runInProcess(['predict', 'mnist-classifier', '--data', 'request.json'], { cwd })).stdout,
    ).toContain('x_doubled FP32 [1, 3]: [2,4,6]');
    const badRequest = await runInProcess(['predict', 'mnist-classifier', '--data', '-'], {
      cwd,
      input: '{"inputs": []}',
    });
    expect(badRequest.code).toBe(2);
    expect(badRequest.stderr).toContain('inputs: expected at least one input tensor');
  });

  it('asks on a terminal and cancels on anything but "yes"; refuses under CI without --yes', async () => {
    const cwd = project(fileConfig);
    const cancelled = await runInProcess(['apply'], { cwd, stdinIsTty: true, input: 'no\n' });
    expect(cancelled.code).toBe(1);
    expect(cancelled.stdout).toContain('Apply cancelled.');
    const confirmed = await runInProcess(['apply'], { cwd, stdinIsTty: true, input: 'yes\n' });
    expect(confirmed.code, confirmed.stderr).toBe(0);
    const ci = await runInProcess(['destroy'], { cwd, stdinIsTty: true, env: { CI: 'true' } });
    expect(ci.code).toBe(2);
    expect(ci.stderr).toContain('refusing to destroy without --yes');
  });
});

describe('converging with the file backend: targets, training, conflicts, locks and moves', () => {
  it('applies only a target and what it depends on; train runs only training jobs', async () => {
    const cwd = project(`backends: { test: { provider: file, path: ./cloud.json } }
trainingJobs:
  - { name: train-mnist, command: [python, train.py], output: { uri: ./trained } }
deployments:
  - { name: from-training, model: { uri: ./trained/model.onnx } }
  - { name: independent, model: { uri: ./model.onnx } }
`);
    const targeted = await runInProcess(['apply', '--yes', '--target', 'from-training', '--json'], { cwd });
    expect(targeted.code, targeted.stderr).toBe(0);
    const result = JSON.parse(targeted.stdout) as { results: { name: string; outcome: string }[] };
    expect(result.results.map((entry) => `${entry.name} ${entry.outcome}`)).toEqual([
      'train-mnist done',
      'from-training done',
    ]);
    expect((await runInProcess(['plan', '--target', 'nothing-here'], { cwd })).code).toBe(2);
    const badFlag = await runInProcess(['apply', '--yes', '--parallelism', '0'], { cwd });
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain('--parallelism: expected a whole number from 1 to 64');

    const cwd2 = project(`backends: { test: { provider: file, path: ./cloud.json } }
trainingJobs:
  - { name: train-mnist, command: [python, train.py] }
deployments:
  - { name: independent, model: { uri: ./model.onnx } }
`);
    const trained = await runInProcess(['train', '--yes', '--json'], { cwd: cwd2 });
    expect(trained.code, trained.stderr).toBe(0);
    // Deployments are neither run nor counted by train.
    expect(
      (JSON.parse(trained.stdout) as { plan: { summary: { create: number } } }).plan.summary.create,
    ).toBe(1);
    expect(
      (JSON.parse(trained.stdout) as { results: { name: string }[] }).results.map((entry) => entry.name),
    ).toEqual(['train-mnist']);
    const plan = JSON.parse((await runInProcess(['plan', '--json'], { cwd: cwd2 })).stdout) as {
      changes: { name: string; action: string }[];
    };
    expect(plan.changes.map((row) => `${row.name} ${row.action}`)).toEqual([
      'train-mnist unchanged',
      'independent create',
    ]);
  });

  it('reports a training job changed after it ran as a conflict apply refuses (exit 1)', async () => {
    const config = (epochs: number) => `backends: { test: { provider: file, path: ./cloud.json } }
trainingJobs:
  - { name: train-mnist, command: [python, train.py], hyperparameters: { epochs: ${epochs} } }
`;
    const cwd = project(config(1));
    expect((await runInProcess(['apply', '--yes'], { cwd })).code).toBe(0);
    writeFileSync(join(cwd, 'mlscale.yaml'), config(5));
    const plan = await runInProcess(['plan'], { cwd });
    expect(plan.stdout).toContain('! trainingJob/train-mnist');
    expect(plan.stdout).toContain('hyperparameters.epochs: 1 → 5');
    expect(plan.stdout).toContain('give the new one another name');
    const apply = await runInProcess(['apply', '--yes'], { cwd });
    expect(apply.code).toBe(1);
    expect(apply.stderr).toContain('conflicts apply cannot resolve');
  });

  it('refuses to apply while another live process holds the state lock (exit 1)', async () => {
    const cwd = project(fileConfig);
    mkdirSync(join(cwd, '.mlscale', 'state'), { recursive: true });
    writeFileSync(
      join(cwd, '.mlscale', 'state', 'default.json.lock'),
      JSON.stringify({
        pid: process.pid,
        host: hostname(),
        command: 'mlscale apply',
        since: new Date().toISOString(),
      }),
    );
    const locked = await runInProcess(['apply', '--yes'], { cwd });
    expect(locked.code).toBe(1);
    expect(locked.stderr).toContain(`State is locked by 'mlscale apply' (pid ${process.pid}`);
    expect(existsSync(join(cwd, 'cloud.json'))).toBe(false);

    // With --lock-timeout it waits: the holder finishes (its lock goes) and this apply goes on.
    const lockPath = join(cwd, '.mlscale', 'state', 'default.json.lock');
    const release = setTimeout(() => rmSync(lockPath), 300);
    const waited = await runInProcess(['apply', '--yes', '--lock-timeout', '30s'], { cwd });
    clearTimeout(release);
    expect(waited.code, waited.stderr).toBe(0);
    expect(existsSync(lockPath)).toBe(false);
  });

  it('replaces a deployment moved to another backend: deleted there, created here', async () => {
    const config = (backend: string) => `backends:
  first: { provider: file, path: ./first.json }
  second: { provider: file, path: ./second.json }
deployments:
  - { name: mover, backend: ${backend}, model: { uri: ./model.onnx } }
`;
    const cwd = project(config('first'));
    expect((await runInProcess(['apply', '--yes'], { cwd })).code).toBe(0);
    writeFileSync(join(cwd, 'mlscale.yaml'), config('second'));
    const plan = JSON.parse((await runInProcess(['plan', '--json'], { cwd })).stdout) as {
      changes: { action: string; reason: string }[];
    };
    expect(plan.changes[0]).toMatchObject({
      action: 'replace',
      reason: "moves from backend 'first' to 'second'",
    });
    expect((await runInProcess(['apply', '--yes'], { cwd })).code).toBe(0);
    const read = (name: string) =>
      JSON.parse(readFileSync(join(cwd, name), 'utf8')) as { deployments: object };
    expect(Object.keys(read('first.json').deployments)).toEqual([]);
    expect(Object.keys(read('second.json').deployments)).toEqual(['mover']);
    expect((await runInProcess(['plan', '--detailed-exitcode'], { cwd })).code).toBe(0);
  });
});

describe('plan text, costs and failures, with the in-memory backend standing in for clouds', () => {
  // Named aws / gcp so prices come from the table; the in-memory backend answers for them.
  const resolver: BackendResolver = async (backend) =>
    createInMemoryBackend({ provider: backend.provider, stepsToInService: 0 });

  it('prices instances, autoscaling ranges, serverless, spot training and unknown types', async () => {
    const cwd = project(`backends: { aws: {}, gcp: {} }
pricing: { aws: { ml.custom.large: 0.5 } }
deployments:
  - { name: fixed-gpu, backend: aws, model: { uri: s3://bucket/model.onnx }, instance: { type: ml.g5.xlarge }, replicas: 2 }
  - name: autoscaled
    backend: aws
    model: { uri: s3://bucket/model.onnx }
    instance: { type: ml.m5.xlarge }
    replicas: 1
    autoscaling: { minReplicas: 1, maxReplicas: 4, target: { metric: requestsPerSecond, value: 50 } }
  - { name: serverless-one, backend: aws, model: { uri: s3://bucket/model.onnx }, serverless: { memoryMb: 2048 } }
  - { name: custom-type, backend: aws, model: { uri: s3://bucket/model.onnx }, instance: { type: ml.custom.large } }
  - { name: vertex-t4, backend: gcp, model: { uri: gs://bucket/model.onnx }, instance: { type: n1-standard-4, accelerator: { type: NVIDIA_TESLA_T4, count: 1 } } }
  - { name: unknown-type, backend: gcp, model: { uri: gs://bucket/model.onnx }, instance: { type: z9-mega } }
trainingJobs:
  - { name: spot-job, backend: aws, image: trainer:1, resources: { instanceType: ml.g5.xlarge, instanceCount: 2 }, spot: { maxWaitSeconds: 7200 }, maxRuntimeSeconds: 3600 }
`);
    const result = await runInProcess(['plan', '--json'], { cwd, resolveBackend: resolver });
    expect(result.code, result.stderr).toBe(0);
    const plan = JSON.parse(result.stdout) as {
      changes: {
        name: string;
        cost: {
          hourly?: { minimum: number; maximum: number };
          basis: string;
          usage?: Record<string, number>;
        };
      }[];
      cost: {
        hourly: { minimum: number; maximum: number };
        monthly: { minimum: number };
        unpriced: string[];
        priceTableDate: string;
      };
    };
    const cost = (name: string) => plan.changes.find((row) => row.name === name)?.cost;
    expect(cost('fixed-gpu')).toMatchObject({
      basis: 'instance',
      hourly: { minimum: 2.816, maximum: 2.816 },
    });
    expect(cost('autoscaled')).toMatchObject({ hourly: { minimum: 0.23, maximum: 0.92 } });
    expect(cost('serverless-one')).toMatchObject({
      basis: 'serverless',
      hourly: { minimum: 0, maximum: 0 },
      usage: { perMillionRequests: 4 },
    });
    expect(cost('custom-type')).toMatchObject({ hourly: { minimum: 0.5 } });
    expect(cost('vertex-t4')).toMatchObject({ hourly: { minimum: 0.6215 } });
    expect(cost('unknown-type')).toMatchObject({ basis: 'unknown' });
    // Spot: 2 × $1.408 × 0.3; at most one hour.
    expect(cost('spot-job')).toMatchObject({
      basis: 'spot',
      hourly: { minimum: 0.8448 },
      usage: { perRunAtMost: 0.8448 },
    });
    expect(plan.cost.unpriced).toEqual(['unknown-type']);
    expect(plan.cost.hourly).toEqual({ minimum: 4.17, maximum: 4.86 });
    expect(plan.cost.priceTableDate).toBe('2026-11-29');

    const text = await runInProcess(['plan'], { cwd, resolveBackend: resolver });
    expect(text.stdout).toContain('$2.82/h ($2,055.68/mo)');
    expect(text.stdout).toContain('$4.00/1M requests');
    expect(text.stdout).toContain("no price for 'z9-mega' in the table");

    writeFileSync(join(cwd, 'prices.json'), JSON.stringify({ aws: { 'ml.g5.xlarge': 1 } }));
    const overridden = JSON.parse(
      (await runInProcess(['plan', '--json', '--prices', 'prices.json'], { cwd, resolveBackend: resolver }))
        .stdout,
    ) as typeof plan;
    expect(overridden.changes.find((row) => row.name === 'fixed-gpu')?.cost.hourly).toEqual({
      minimum: 2,
      maximum: 2,
    });
  });

  it('shows changed fields old → new, secrets redacted, and replaces what cannot change in place', async () => {
    const backend = createInMemoryBackend({ provider: 'aws', stepsToInService: 0 });
    // The pool closes backends after each command; this one outlives them, as a cloud does.
    const shared: BackendResolver = async () =>
      Object.assign(Object.create(backend) as typeof backend, { close: async () => {} });
    const base = (extra: string) => `backends: { aws: {} }
deployments:
  - name: mnist-classifier
    model: { uri: s3://bucket/model.onnx }
    environment: { API_TOKEN: "\${env:API_TOKEN}", MODE: fast }
${extra}`;
    const cwd = project(base(''));
    expect(
      (
        await runInProcess(['apply', '--yes'], {
          cwd,
          resolveBackend: shared,
          env: { API_TOKEN: 'first-secret' },
        })
      ).code,
    ).toBe(0);
    writeFileSync(
      join(cwd, 'mlscale.yaml'),
      base('    encryption: { keyId: arn:aws:kms:us-east-1:1:key/k }\n    replicas: 2\n'),
    );
    const plan = await runInProcess(['plan'], {
      cwd,
      resolveBackend: shared,
      env: { API_TOKEN: 'second-secret' },
    });
    expect(plan.stdout).toContain('-/+ deployment/mnist-classifier');
    expect(plan.stdout).toContain('encryption cannot change in place');
    expect(plan.stdout).toContain('replicas: 1 → 2');
    // A changed secret shows as a changed keyed hash, never as the value.
    expect(plan.stdout).toMatch(
      /environment\.API_TOKEN: "sealed:hmac-sha256:[\w-]+" → "sealed:hmac-sha256:[\w-]+"/,
    );
    expect(plan.stdout).not.toContain('secret');
    const state = await runInProcess(['apply', '--yes', '--json'], {
      cwd,
      resolveBackend: shared,
      env: { API_TOKEN: 'second-secret' },
    });
    expect(state.code, state.stderr).toBe(0);
    expect(state.stdout).not.toContain('second-secret');
    const stateFile = readFileSync(join(cwd, '.mlscale', 'state', 'default.json'), 'utf8');
    // The state keeps the spec as backends record it: the secret sealed.
    expect(stateFile).toMatch(/"API_TOKEN": "sealed:hmac-sha256:[\w-]+"/);
    expect(stateFile).not.toContain('secret');
    expect(readFileSync(join(cwd, '.mlscale', 'audit.jsonl'), 'utf8')).not.toContain('secret');
  });

  it('reports a missing variable with its line (exit 2), and a backend that cannot be built with exit 1', async () => {
    const cwd = project(
      JSON.stringify({
        // biome-ignore lint/suspicious/noTemplateCurlyInString: mlscale's own ${env:NAME} syntax, not a template
        backends: { aws: { region: '${env:AWS_REGION_FOR_TEST}' } },
        deployments: [{ name: 'abc', model: { uri: 's3://bucket/abc.onnx' } }],
      }),
      'mlscale.json',
    );
    const missingVariable = await runInProcess(['plan'], { cwd });
    expect(missingVariable.code).toBe(2);
    expect(missingVariable.stderr).toMatch(
      /mlscale\.json:1:\d+: backends\.aws\.region: environment variable AWS_REGION_FOR_TEST is not set/,
    );
    const failing: BackendResolver = (backend, directory) =>
      resolveBackend(backend, directory, async () => {
        throw new Error("Cannot find package '@mlscale/aws'");
      });
    const missingPackage = await runInProcess(['plan'], {
      cwd,
      env: { AWS_REGION_FOR_TEST: 'us-east-1' },
      resolveBackend: failing,
    });
    expect(missingPackage.code, missingPackage.stderr).toBe(1);
    expect(missingPackage.stderr).toContain("Backend 'aws' needs @mlscale/aws, which could not be loaded");
    expect(missingPackage.stderr).toContain('npm install @mlscale/aws');
    const tooOld: BackendResolver = (backend, directory) =>
      resolveBackend(backend, directory, async () => ({}));
    const noFactory = await runInProcess(['plan'], {
      cwd,
      env: { AWS_REGION_FOR_TEST: 'us-east-1' },
      resolveBackend: tooOld,
    });
    expect(noFactory.code).toBe(1);
    expect(noFactory.stderr).toContain('@mlscale/aws has no sagemaker() factory');
    const unknownEnvironment = await runInProcess(['plan', '--env', 'staging'], {
      cwd,
      env: { AWS_REGION_FOR_TEST: 'x' },
    });
    expect(unknownEnvironment.code).toBe(2);
    expect(unknownEnvironment.stderr).toContain("no environment 'staging'");
    expect((await runInProcess(['export', '--target', 'helm'], { cwd })).code).toBe(2);
    const unknownOption = await runInProcess(['plan', '--frobnicate'], { cwd });
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toContain("Unknown option '--frobnicate'");
    const missing = await runInProcess(['plan'], { cwd: project('', 'notes.txt') });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('No config file');
  });
});

describe('conventions scripts and people expect', () => {
  it("prints its version, suggests the command or option meant, and keeps Terraform's plan codes", async () => {
    const version = await runInProcess(['--version'], { cwd: tmpdir(), dispatch: true });
    expect(version.code).toBe(0);
    const { version: packageVersion } = JSON.parse(
      readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    expect(version.stdout).toBe(`mlscale ${packageVersion}\n`);
    const typo = await runInProcess(['aply'], { cwd: tmpdir(), dispatch: true });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("unknown command 'aply'; did you mean 'apply'?");
    const far = await runInProcess(['frobnicate'], { cwd: tmpdir(), dispatch: true });
    expect(far.stderr).not.toContain('did you mean');
    const option = await runInProcess(['plan', '--detailed-exitcod'], { cwd: tmpdir() });
    expect(option.code).toBe(2);
    expect(option.stderr).toContain('Did you mean --detailed-exitcode?');
    // With --detailed-exitcode, any error is 1 (a missing or bad config file too), changes are 2.
    const empty = mkdtempSync(join(tmpdir(), 'mlscale-no-config-'));
    directories.push(empty);
    expect((await runInProcess(['plan'], { cwd: empty })).code).toBe(2);
    expect((await runInProcess(['plan', '--detailed-exitcode'], { cwd: empty })).code).toBe(1);
    const cwd = project(fileConfig);
    expect((await runInProcess(['plan', '--detailed-exitcode'], { cwd })).code).toBe(2);
  });
});

describe('a saved plan', () => {
  it('is applied as reviewed, without asking, and refused once the file or the state moved on', async () => {
    const cwd = project(fileConfig);
    const saved = await runInProcess(['plan', '--out', 'release.plan'], { cwd });
    expect(saved.code, saved.stderr).toBe(0);
    expect(saved.stdout).toContain(
      "Saved the plan to release.plan: 'mlscale apply release.plan' applies exactly this.",
    );
    const file = JSON.parse(readFileSync(join(cwd, 'release.plan'), 'utf8')) as {
      format: string;
      fingerprints: string[];
    };
    expect(file.format).toBe('mlscale-plan');
    expect(file.fingerprints).toHaveLength(2);
    expect(statSync(join(cwd, 'release.plan')).mode & 0o777).toBe(0o600);
    // Not a terminal and no --yes: a saved plan was reviewed already.
    const applied = await runInProcess(['apply', 'release.plan'], { cwd });
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('Apply complete');
    // The state moved on (serial): the same plan again is stale.
    const again = await runInProcess(['apply', 'release.plan'], { cwd });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(
      /Saved plan release\.plan is stale: the state changed since \(serial \d+ then, \d+ now\)\. Nothing was changed/,
    );
    // A plan made now, then a change to the file: stale too, naming the row.
    expect((await runInProcess(['plan', '--out', 'next.plan'], { cwd })).code).toBe(0);
    writeFileSync(
      join(cwd, 'mlscale.yaml'),
      fileConfig.replace('model: { uri: ./model.onnx }', 'model: { uri: ./model.onnx }\n    replicas: 2'),
    );
    const changed = await runInProcess(['apply', 'next.plan'], { cwd });
    expect(changed.code).toBe(1);
    expect(changed.stderr).toMatch(
      /is stale: deployment 'mnist-classifier' would now be 'update', not as reviewed/,
    );
    const notAPlan = await runInProcess(['apply', 'mlscale.yaml'], { cwd });
    expect(notAPlan.code).toBe(2);
    expect(notAPlan.stderr).toMatch(/mlscale\.yaml is not a saved plan/);
  });
});

describe("a backend's settings errors", () => {
  it('point at the file, line and column, as the rest of the config errors do', async () => {
    const cwd = project(`backends:
  aws:
    region: 5
    bogus: true
deployments:
  - name: mnist-classifier
    model: { uri: ./model.onnx }
`);
    const plan = await runInProcess(['plan'], { cwd });
    expect(plan.code).toBe(2);
    expect(plan.stderr).toContain("Invalid settings of backend 'aws' (aws):");
    expect(plan.stderr).toContain('mlscale.yaml:3:13: backends.aws.region: expected string, received number');
    expect(plan.stderr).toContain('mlscale.yaml:4:12: backends.aws.bogus: unknown field "bogus"');
  });
});

describe('a model file that is not there', () => {
  it('is a conflict in the plan, and apply sends nothing', async () => {
    const cwd = project(fileConfig.replace('./model.onnx', './missing.onnx'));
    const plan = await runInProcess(['plan', '--json'], { cwd });
    const row = (
      JSON.parse(plan.stdout) as { changes: { name: string; action: string; reason?: string }[] }
    ).changes.find((change) => change.name === 'mnist-classifier');
    expect(row).toMatchObject({
      action: 'conflict',
      reason: `its model file ${join(cwd, 'missing.onnx')} does not exist`,
    });
    const apply = await runInProcess(['apply', '--yes'], { cwd });
    expect(apply.code).toBe(1);
    expect(
      existsSync(join(cwd, 'cloud.json')) ? readFileSync(join(cwd, 'cloud.json'), 'utf8') : '',
    ).not.toContain('mnist-classifier');
  });
});

describe('mlscale state', () => {
  it('lists what the state records and forgets one resource, leaving it running', async () => {
    const cwd = project(fileConfig);
    expect((await runInProcess(['apply', '--yes'], { cwd })).code).toBe(0);
    const listed = await runInProcess(['state', 'list', '--json'], { cwd });
    expect(listed.code).toBe(0);
    const names = (json: string) =>
      (JSON.parse(json) as { resources: { kind: string; name: string }[] }).resources.map(
        (entry) => `${entry.kind}/${entry.name}`,
      );
    expect(names(listed.stdout).sort()).toEqual(['deployment/mnist-classifier', 'trainingJob/train-mnist']);
    const text = await runInProcess(['state', 'list'], { cwd });
    expect(text.stdout).toMatch(/deployment\s+mnist-classifier\s+test\s+file\s+[0-9a-f]{12}/);
    const forgot = await runInProcess(['state', 'rm', 'mnist-classifier'], { cwd });
    expect(forgot.code, forgot.stderr).toBe(0);
    expect(forgot.stdout).toContain("Forgot deployment 'mnist-classifier': it keeps running in its backend");
    expect(names((await runInProcess(['state', 'list', '--json'], { cwd })).stdout)).toEqual([
      'trainingJob/train-mnist',
    ]);
    expect(readFileSync(join(cwd, 'cloud.json'), 'utf8')).toContain('mnist-classifier');
    const missing = await runInProcess(['state', 'rm', 'nope'], { cwd });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("The state records no resource named 'nope'");
    expect((await runInProcess(['state', 'frob'], { cwd })).code).toBe(2);
  });
});
