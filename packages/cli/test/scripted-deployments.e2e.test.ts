import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeDeploymentRecord } from '@mlscale/core/provider-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ensureBuilt, removeBuild, runCli, startCli, temporaryProject } from './cli-harness.js';

/** The test-only `file` backend: a JSON "cloud" shared by every CLI process of a test. */
interface FakeCloud {
  deployments: Record<string, { spec: { replicas: number; model: { uri: string } }; state: string }>;
  jobs: Record<string, unknown>;
  calls: { method: string; name: string }[];
}

/** The fake cloud, each deployment with the spec its record asks for. */
function readCloud(directory: string, file = 'cloud.json'): FakeCloud {
  const stored = JSON.parse(readFileSync(join(directory, file), 'utf8')) as Omit<FakeCloud, 'deployments'> & {
    deployments: Record<string, { record: string; state: string }>;
  };
  const deployments: FakeCloud['deployments'] = {};
  for (const [name, deployment] of Object.entries(stored.deployments)) {
    const record = decodeDeploymentRecord(deployment.record);
    deployments[name] = {
      spec: record!.desired as FakeCloud['deployments'][string]['spec'],
      state: deployment.state,
    };
  }
  return { ...stored, deployments };
}

function writeConfig(
  directory: string,
  options: {
    replicas?: number;
    model?: string;
    provisionMs?: number;
    trainingMs?: number;
    extraDeployments?: string[];
  } = {},
): void {
  writeFileSync(join(directory, 'model-v1.onnx'), 'not a real model: the file backend never reads it');
  writeFileSync(join(directory, 'model-v2.onnx'), 'v2');
  const extra = (options.extraDeployments ?? [])
    .map((name) => `  - name: ${name}\n    model: { uri: ./model-v1.onnx }\n`)
    .join('');
  writeFileSync(
    join(directory, 'mlscale.yaml'),
    `# yaml-language-server: $schema=../schema/mlscale.schema.json
backends:
  test:
    provider: file
    path: ./cloud.json
    provisionMs: ${options.provisionMs ?? 0}
    trainingMs: ${options.trainingMs ?? 0}
trainingJobs:
  - name: train-mnist
    command: [python, train.py]
    output: { uri: ./trained }
deployments:
  - name: mnist-classifier
    model: { uri: ${options.model ?? './model-v1.onnx'} }
    replicas: ${options.replicas ?? 1}
    tags: { team: vision }
  - name: mnist-from-training
    model: { uri: ./trained/model.onnx }
${extra}`,
  );
}

interface PlanJson {
  ok: boolean;
  hasChanges: boolean;
  summary: Record<string, number>;
  changes: {
    kind: string;
    name: string;
    action: string;
    changes: { path: string; before: unknown; after: unknown }[];
    dependsOn: string[];
  }[];
}

const projects: string[] = [];
function project(): string {
  const directory = temporaryProject();
  projects.push(directory);
  return directory;
}

beforeAll(async () => {
  await ensureBuilt();
}, 180_000);

afterAll(() => {
  removeBuild();
  for (const directory of projects) rmSync(directory, { recursive: true, force: true });
});

describe('mlscale plan / apply / destroy, as a subprocess against the file backend', () => {
  it('plans creations on an empty state, applies them, then plans no changes', async () => {
    const directory = project();
    writeConfig(directory);

    const first = await runCli(['plan', '--json', '--detailed-exitcode'], { cwd: directory });
    expect(first.code, first.stderr).toBe(2);
    const plan = JSON.parse(first.stdout) as PlanJson;
    expect(plan.changes.map((row) => [row.kind, row.name, row.action])).toEqual([
      ['trainingJob', 'train-mnist', 'create'],
      ['deployment', 'mnist-classifier', 'create'],
      ['deployment', 'mnist-from-training', 'create'],
    ]);
    // The deployment serving the job's output waits for the job.
    expect(plan.changes[2]?.dependsOn).toEqual(['train-mnist']);

    const apply = await runCli(['apply', '--yes'], { cwd: directory });
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stdout).toMatch(
      /trainingJob\/train-mnist: created[\s\S]*deployment\/mnist-from-training: created/,
    );
    expect(apply.stdout).toContain('Apply complete: 3 changed');

    const again = await runCli(['plan', '--json', '--detailed-exitcode'], { cwd: directory });
    expect(again.code, again.stderr).toBe(0);
    const noChanges = JSON.parse(again.stdout) as PlanJson;
    expect(noChanges.hasChanges).toBe(false);
    expect(noChanges.summary.unchanged).toBe(3);

    // A second apply does nothing: no new backend calls.
    const callsBefore = readCloud(directory).calls.length;
    const second = await runCli(['apply', '--yes'], { cwd: directory });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('Nothing to do.');
    expect(readCloud(directory).calls.length).toBe(callsBefore);

    const state = JSON.parse(readFileSync(join(directory, '.mlscale', 'state', 'default.json'), 'utf8')) as {
      resources: Record<string, unknown>;
      inFlight: unknown[];
    };
    expect(Object.keys(state.resources).sort()).toEqual([
      'deployment/mnist-classifier',
      'deployment/mnist-from-training',
      'trainingJob/train-mnist',
    ]);
    expect(state.inFlight).toEqual([]);
    const audit = readFileSync(join(directory, '.mlscale', 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { operation: string; target: string; result: string });
    const lines = audit.map((entry) => `${entry.operation} ${entry.target} ${entry.result}`);
    // Independent resources run in parallel; the job still finishes before the deployment of its model.
    expect([...lines].sort()).toEqual([
      'deploy mnist-classifier succeeded',
      'deploy mnist-from-training succeeded',
      'train train-mnist succeeded',
    ]);
    expect(lines.indexOf('train train-mnist succeeded')).toBeLessThan(
      lines.indexOf('deploy mnist-from-training succeeded'),
    );
  });

  it('plans a changed replica count as an in-place update and a changed model as a rollout', async () => {
    const directory = project();
    writeConfig(directory);
    expect((await runCli(['apply', '--yes'], { cwd: directory })).code).toBe(0);

    writeConfig(directory, { replicas: 3 });
    const scaled = JSON.parse((await runCli(['plan', '--json'], { cwd: directory })).stdout) as PlanJson;
    const row = scaled.changes.find((change) => change.name === 'mnist-classifier');
    expect(row?.action).toBe('update');
    expect(row?.changes).toEqual([{ path: 'replicas', before: 1, after: 3 }]);
    expect((await runCli(['apply', '--yes'], { cwd: directory })).code).toBe(0);
    expect(readCloud(directory).deployments['mnist-classifier']?.spec.replicas).toBe(3);
    expect(readCloud(directory).calls.filter((call) => call.method === 'updateDeployment')).toHaveLength(1);

    writeConfig(directory, { replicas: 3, model: './model-v2.onnx' });
    const rolled = JSON.parse((await runCli(['plan', '--json'], { cwd: directory })).stdout) as PlanJson;
    const rollout = rolled.changes.find((change) => change.name === 'mnist-classifier');
    expect(rollout?.action).toBe('rollout');
    expect(rollout?.changes.map((change) => change.path)).toEqual(['model.uri']);
    expect(String(rollout?.changes[0]?.after)).toMatch(/model-v2\.onnx$/);
    expect((await runCli(['apply', '--yes', '--json'], { cwd: directory })).code).toBe(0);
    expect(readCloud(directory).deployments['mnist-classifier']?.spec.model.uri).toMatch(/model-v2\.onnx$/);
  });

  it('plans a destroy for a deployment removed from the file, and destroy leaves nothing', async () => {
    const directory = project();
    writeConfig(directory, { extraDeployments: ['canary-model'] });
    expect((await runCli(['apply', '--yes'], { cwd: directory })).code).toBe(0);

    writeConfig(directory);
    const plan = JSON.parse((await runCli(['plan', '--json'], { cwd: directory })).stdout) as PlanJson;
    expect(plan.changes.find((row) => row.name === 'canary-model')?.action).toBe('destroy');
    expect((await runCli(['apply', '--yes'], { cwd: directory })).code).toBe(0);
    expect(Object.keys(readCloud(directory).deployments).sort()).toEqual([
      'mnist-classifier',
      'mnist-from-training',
    ]);

    const destroy = await runCli(['destroy', '--yes', '--json'], { cwd: directory });
    expect(destroy.code, destroy.stderr).toBe(0);
    const result = JSON.parse(destroy.stdout) as {
      ok: boolean;
      results: { name: string; outcome: string }[];
    };
    expect(result.ok).toBe(true);
    expect(result.results.every((entry) => entry.outcome === 'done')).toBe(true);
    expect(readCloud(directory).deployments).toEqual({});
    const state = JSON.parse(readFileSync(join(directory, '.mlscale', 'state', 'default.json'), 'utf8')) as {
      resources: object;
    };
    expect(state.resources).toEqual({});
    const after = JSON.parse((await runCli(['plan', '--json'], { cwd: directory })).stdout) as PlanJson;
    // Deployments are gone; a finished training job stays in the backend's history (jobs cannot be deleted).
    expect(after.changes.map((row) => `${row.name} ${row.action}`)).toEqual([
      'train-mnist unchanged',
      'mnist-classifier create',
      'mnist-from-training create',
    ]);
  });

  it('resumes a killed apply without creating anything twice', async () => {
    const directory = project();
    // Slow enough to kill mid-way: each deployment takes 2 s to come up.
    writeConfig(directory, { provisionMs: 2000, trainingMs: 300 });
    // One at a time, so the kill lands at a known step.
    const child = startCli(['apply', '--yes', '--parallelism', '1'], { cwd: directory });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const closed = new Promise((resolve) => child.on('close', resolve));
    // Killed while the first deployment is Creating: its create call is made, the later ones are not.
    const createdFirst = () =>
      existsSync(join(directory, 'cloud.json')) &&
      readCloud(directory).calls.some((call) => call.name === 'mnist-classifier');
    for (let check = 0; check < 600 && !createdFirst(); check++)
      await new Promise((resolve) => setTimeout(resolve, 25));
    expect(createdFirst(), output).toBe(true);
    child.kill('SIGKILL');
    await closed;
    const interrupted = JSON.parse(
      readFileSync(join(directory, '.mlscale', 'state', 'default.json'), 'utf8'),
    ) as { inFlight: { name: string; action: string }[] };
    expect(interrupted.inFlight).toEqual([
      expect.objectContaining({ name: 'mnist-classifier', action: 'create' }),
    ]);
    expect(existsSync(join(directory, '.mlscale', 'state', 'default.json.lock'))).toBe(true);

    const resumed = await runCli(['apply', '--yes'], { cwd: directory, timeoutMs: 90_000 });
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain('Took over the state lock');
    expect(resumed.stdout).toContain("deployment/mnist-classifier: resuming 'create'");
    const creates = readCloud(directory).calls.filter((call) => call.method.startsWith('create'));
    expect(creates.map((call) => call.name).sort()).toEqual([
      'mnist-classifier',
      'mnist-from-training',
      'train-mnist',
    ]);
    const plan = await runCli(['plan', '--detailed-exitcode'], { cwd: directory });
    expect(plan.code, plan.stdout).toBe(0);
  });
});

describe('Ctrl-C', () => {
  it('stops an apply cleanly: lock released, in-flight work recorded, the next apply finishes it', async () => {
    const directory = project();
    writeConfig(directory, { provisionMs: 2000 });
    // One at a time, so the kill lands at a known step.
    const child = startCli(['apply', '--yes', '--parallelism', '1'], { cwd: directory });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    const creating = () =>
      existsSync(join(directory, 'cloud.json')) &&
      readCloud(directory).calls.some((call) => call.name === 'mnist-classifier');
    for (let check = 0; check < 600 && !creating(); check++)
      await new Promise((resolve) => setTimeout(resolve, 25));
    child.kill('SIGINT');
    // 128 + SIGINT, as shells report a command Ctrl-C ended.
    expect(await closed).toBe(130);
    expect(stderr).toContain('Interrupted. 1 operation(s) in flight are recorded');
    expect(existsSync(join(directory, '.mlscale', 'state', 'default.json.lock'))).toBe(false);
    const resumed = await runCli(['apply', '--yes'], { cwd: directory, timeoutMs: 90_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).not.toContain('Took over the state lock');
    expect(
      readCloud(directory)
        .calls.filter((call) => call.method === 'createDeployment')
        .map((call) => call.name)
        .sort(),
    ).toEqual(['mnist-classifier', 'mnist-from-training']);
  });
});

describe('exit codes, errors and confirmation', () => {
  it('refuses to apply without --yes when not run from a terminal (exit 2)', async () => {
    const directory = project();
    writeConfig(directory);
    const refused = await runCli(['apply'], { cwd: directory });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('refusing to apply without --yes');
    // The plan is still shown, as plain text: no colour when not a terminal.
    expect(refused.stdout).toContain('+ deployment/mnist-classifier');
    expect(refused.stdout).toContain('Plan: 3 to create');
    expect(refused.stdout).not.toContain('\u001b[');
    expect(
      existsSync(join(directory, 'cloud.json')) ? Object.keys(readCloud(directory).deployments) : [],
    ).toEqual([]);
  });

  it('points at the line of a YAML syntax error and of an invalid field (exit 2)', async () => {
    const directory = project();
    writeFileSync(
      join(directory, 'mlscale.yaml'),
      'backends:\n  test: { provider: file }\ndeployments:\n  - name: abc\n    model: { uri: ./m.onnx\n    replicas: 2\n',
    );
    const syntax = await runCli(['plan'], { cwd: directory });
    expect(syntax.code).toBe(2);
    expect(syntax.stderr).toMatch(/mlscale\.yaml:\d+:\d+: invalid YAML/);

    writeFileSync(
      join(directory, 'mlscale.yaml'),
      'backends:\n  test: { provider: file }\ndeployments:\n  - name: abc\n    model: { uri: ./m.onnx }\n    replicas: lots\n    autoscaling: { minReplicas: 1, maxReplicas: 2, target: { metric: qps, value: 5 } }\n',
    );
    const invalid = await runCli(['plan', '--json'], { cwd: directory });
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('mlscale.yaml:6:15: deployments[0].replicas: expected number');
    expect(invalid.stderr).toMatch(/mlscale\.yaml:7:\d+: deployments\[0\]\.autoscaling\.target\.metric/);
    const parsed = JSON.parse(invalid.stdout) as {
      ok: boolean;
      error: { code: string; issues: { path: string }[] };
    };
    expect(parsed.ok).toBe(false);
    expect(parsed.error.code).toBe('InvalidSpec');
    expect(parsed.error.issues.map((issue) => issue.path)).toEqual([
      'deployments[0].replicas',
      'deployments[0].autoscaling.target.metric',
    ]);
  });

  it('answers --help with examples and exit 0', async () => {
    const directory = project();
    const help = await runCli(['apply', '--help'], { cwd: directory });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Examples:');
    expect(help.stdout).toContain('mlscale apply --env prod --yes');
  });
});

describe('environments and a TypeScript config', () => {
  it('applies an environment override and loads mlscale.config.ts written with defineConfig', async () => {
    const directory = project();
    writeFileSync(join(directory, 'model.onnx'), 'x');
    writeFileSync(
      join(directory, 'mlscale.config.ts'),
      `import { defineConfig } from '@mlscale/cli';

const replicas: number = Number(process.env.BASE_REPLICAS ?? '1');
export default defineConfig({
  backends: { dev: { provider: 'file', path: './cloud.json' }, prod: { provider: 'file', path: './prod-cloud.json' } },
  deployments: [{ name: 'mnist-classifier', model: { uri: './model.onnx' }, replicas, backend: 'dev' }],
  environments: { prod: { backend: 'prod', deployments: { 'mnist-classifier': { replicas: 4 } } } },
});
`,
    );
    const dev = JSON.parse(
      (await runCli(['plan', '--json'], { cwd: directory, env: { BASE_REPLICAS: '2' } })).stdout,
    ) as PlanJson & { changes: { backend: string }[] };
    expect(dev.changes[0]).toMatchObject({ name: 'mnist-classifier', action: 'create', backend: 'dev' });
    const prodApply = await runCli(['apply', '--env', 'prod', '--yes'], { cwd: directory });
    expect(prodApply.code, prodApply.stderr).toBe(0);
    const prodCloud = readCloud(directory, 'prod-cloud.json');
    expect(prodCloud.deployments['mnist-classifier']?.spec.replicas).toBe(4);
    expect(existsSync(join(directory, '.mlscale', 'state', 'default.prod.json'))).toBe(true);
    expect(existsSync(join(directory, 'cloud.json'))).toBe(false);
  });
});

describe('mlscale export', () => {
  it('writes a Dockerfile build context and Kubernetes manifests that match the spec', async () => {
    const directory = project();
    writeFileSync(join(directory, 'model.onnx'), 'onnx bytes');
    writeFileSync(
      join(directory, 'mlscale.yaml'),
      `backends: { test: { provider: file } }
deployments:
  - name: mnist-classifier
    model: { uri: ./model.onnx }
    replicas: 2
    instance: { type: ml.g5.xlarge, accelerator: { type: nvidia-a10g, count: 1 } }
    autoscaling: { minReplicas: 2, maxReplicas: 6, target: { metric: cpuUtilization, value: 70 }, scaleInCooldownSeconds: 120 }
    tags: { team: vision }
`,
    );
    const docker = await runCli(['export', '--target', 'docker', '--json'], { cwd: directory });
    expect(docker.code, docker.stderr).toBe(0);
    const dockerfile = readFileSync(
      join(directory, 'mlscale-export', 'mnist-classifier', 'Dockerfile'),
      'utf8',
    );
    expect(dockerfile).toMatch(/^FROM node:20/m);
    expect(dockerfile).toContain('COPY model/ /opt/ml/model/');
    expect(
      readFileSync(join(directory, 'mlscale-export', 'mnist-classifier', 'model', 'model.onnx'), 'utf8'),
    ).toBe('onnx bytes');

    const kubernetes = await runCli(
      ['export', '--target', 'kubernetes', '--image', 'registry.example/mnist:1'],
      { cwd: directory },
    );
    expect(kubernetes.code, kubernetes.stderr).toBe(0);
    const documents = parseAllDocuments(
      readFileSync(join(directory, 'mlscale-export', 'mnist-classifier.yaml'), 'utf8'),
    ).map(
      (document) =>
        document.toJS() as { kind: string; metadata: { name: string; labels: Record<string, string> } },
    );
    expect(documents.map((document) => document.kind)).toEqual([
      'Deployment',
      'Service',
      'HorizontalPodAutoscaler',
    ]);
    for (const document of documents) {
      expect(document.metadata.name).toBe('mnist-classifier');
      expect(document.metadata.labels).toMatchObject({
        team: 'vision',
        'app.kubernetes.io/name': 'mnist-classifier',
      });
    }
    const { validateManifest } = await import('./validate-kubernetes.js');
    for (const document of documents) expect(() => validateManifest(document)).not.toThrow();
  });
});
