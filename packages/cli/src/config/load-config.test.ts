import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MlscaleError } from '@mlscale/core';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { loadConfig } from './load-config.js';

const directories: string[] = [];
function write(name: string, text: string): string {
  const directory = mkdtempSync(join(tmpdir(), 'mlscale-config-'));
  directories.push(directory);
  writeFileSync(join(directory, name), text);
  return directory;
}
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

async function failure(
  directory: string,
  options: { environment?: string; variables?: Record<string, string> } = {},
): Promise<MlscaleError> {
  try {
    await loadConfig({
      directory,
      variables: options.variables ?? {},
      ...(options.environment ? { environment: options.environment } : {}),
    });
  } catch (error) {
    if (MlscaleError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected the config to be rejected');
}

const twoEnvironments = `backends:
  local: {}
  aws: { region: "\${env:AWS_REGION:-us-east-1}" }
trainingJobs:
  - name: train-mnist
    backend: local
    command: [python, train.py]
    output: { uri: ./artifacts }
deployments:
  - name: mnist-classifier
    backend: local
    model: { uri: ./artifacts/model.onnx }
    replicas: 1
    autoscaling: { minReplicas: 1, maxReplicas: 3, target: { metric: concurrentRequests, value: 4 } }
environments:
  prod:
    backend: aws
    deployments:
      mnist-classifier:
        model: { uri: s3://models/mnist.onnx }
        instance: { type: ml.m5.xlarge }
        autoscaling: null
        replicas: 2
`;

describe('loadConfig', () => {
  it('applies defaults, resolves relative paths against the file and infers job → deployment order', async () => {
    const directory = write('mlscale.yaml', twoEnvironments);
    const config = await loadConfig({ directory, variables: {} });
    expect(config.project).toBe('default');
    expect(config.backends.get('aws')).toEqual({
      name: 'aws',
      provider: 'aws',
      settings: { region: 'us-east-1' },
    });
    expect(
      config.resources.map((resource) => `${resource.kind}/${resource.name}@${resource.backend}`),
    ).toEqual(['trainingJob/train-mnist@local', 'deployment/mnist-classifier@local']);
    const deployment = config.resources[1]!;
    expect(deployment.dependsOn).toEqual(['train-mnist']);
    expect(deployment.kind === 'deployment' && deployment.spec.model).toEqual({
      uri: join(directory, 'artifacts', 'model.onnx'),
      format: 'onnx',
    });
  });

  it('merges an environment: its backend, field overrides, and null removing a field', async () => {
    const directory = write('mlscale.yaml', twoEnvironments);
    const config = await loadConfig({
      directory,
      environment: 'prod',
      variables: { AWS_REGION: 'eu-west-1' },
    });
    expect(config.environment).toBe('prod');
    expect(config.backends.get('aws')?.settings).toEqual({ region: 'eu-west-1' });
    const deployment = config.resources.find((resource) => resource.kind === 'deployment');
    expect(deployment?.backend).toBe('aws');
    expect(deployment?.kind === 'deployment' && deployment.spec).toMatchObject({
      model: { uri: 's3://models/mnist.onnx' },
      replicas: 2,
      instance: { type: 'ml.m5.xlarge' },
    });
    expect(deployment?.kind === 'deployment' && deployment.spec.autoscaling).toBeUndefined();
    // The prod model is no longer the job's output: no inferred dependency.
    expect(deployment?.dependsOn).toEqual([]);
  });

  it('points an invalid environment override at its own line', async () => {
    const directory = write('mlscale.yaml', twoEnvironments.replace('replicas: 2', 'replicas: -2'));
    const error = await failure(directory, { environment: 'prod' });
    expect(error.code).toBe('InvalidSpec');
    expect(error.message).toContain('mlscale.yaml:23:19: deployments[0].replicas: Too small');
  });

  it('reports duplicate names, unknown backends, unknown dependencies and cycles with lines', async () => {
    const directory = write(
      'mlscale.yaml',
      `backends: { local: {}, cloud: { provider: oracle } }
deployments:
  - { name: alpha-model, model: { uri: a.onnx }, backend: local, dependsOn: [beta-model] }
  - { name: beta-model, model: { uri: b.onnx }, backend: local, dependsOn: [alpha-model] }
  - { name: beta-model, model: { uri: c.onnx }, backend: nowhere }
  - { name: gamma-model, model: { uri: d.onnx }, backend: local, dependsOn: [missing-one] }
`,
    );
    const error = await failure(directory);
    expect(error.message).toContain(
      'mlscale.yaml:1:43: backends.cloud.provider: expected provider to be one of local, aws, azure, gcp',
    );
    expect(error.message).toContain(
      "mlscale.yaml:5:13: deployments[2].name: duplicate deployment name 'beta-model'",
    );
    expect(error.message).toContain(
      "mlscale.yaml:5:58: deployments[2].backend: expected the name of a backend under 'backends' (local), got 'nowhere'",
    );
    expect(error.message).toContain(
      "mlscale.yaml:6:77: deployments[3].dependsOn: expected the name of a deployment or training job in this file, got 'missing-one'",
    );
    expect(error.message).toMatch(/dependency cycle: alpha-model → beta-model → alpha-model/);
  });

  it('locates errors in JSON files, and JSON syntax errors by line and column', async () => {
    const valid = write(
      'mlscale.json',
      '{\n  "backends": { "local": {} },\n  "deployments": [\n    { "name": "ab", "model": { "uri": "m.onnx" } }\n  ]\n}\n',
    );
    expect((await failure(valid)).message).toContain(
      'mlscale.json:4:15: deployments[0].name: expected at least 3 characters',
    );
    const broken = write('mlscale.json', '{\n  "backends": { "local": {} },\n  "deployments": [,]\n}\n');
    expect((await failure(broken)).message).toMatch(/^mlscale\.json:3:\d+: invalid JSON/);
  });

  it('refuses a missing variable instead of deploying an empty string, and unknown top-level fields', async () => {
    const directory = write(
      'mlscale.yaml',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: mlscale's own ${env:NAME} syntax, not a template
      'backends:\n  aws: { region: "${env:MLSCALE_TEST_UNSET}" }\ndeploymentz: []\n',
    );
    const error = await failure(directory);
    expect(error.message).toContain(
      'mlscale.yaml:2:18: backends.aws.region: environment variable MLSCALE_TEST_UNSET is not set',
    );
    const typo = await failure(directory, { variables: { MLSCALE_TEST_UNSET: 'x' } });
    expect(typo.message).toMatch(/mlscale\.yaml:3:\d+: \(root\): unknown field "deploymentz"/);
  });

  it('needs a backend when the file has several and the resource names none', async () => {
    const directory = write(
      'mlscale.yaml',
      'backends: { local: {}, aws: {} }\ndeployments:\n  - { name: abc, model: { uri: m.onnx } }\n',
    );
    expect((await failure(directory)).message).toContain(
      "deployments[0].backend: expected a backend: set 'backend' (backends: local, aws)",
    );
  });
});

describe('the README example', () => {
  it('is a valid config, on the local backend and in prod', async () => {
    const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
    const example = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toContain('environments:');
    const directory = write('mlscale.yaml', example ?? '');
    const variables = { SAGEMAKER_ROLE_ARN: 'arn:aws:iam::123456789012:role/deploy' };
    const local = await loadConfig({ directory, variables });
    expect(local.resources.map((resource) => `${resource.name}@${resource.backend}`)).toEqual([
      'train-digits@local',
      'digits-classifier@local',
    ]);
    expect(local.resources[1]?.dependsOn).toEqual(['train-digits']);
    const prod = await loadConfig({ directory, variables, environment: 'prod' });
    expect(prod.resources.map((resource) => `${resource.name}@${resource.backend}`)).toEqual([
      'train-digits@aws',
      'digits-classifier@aws',
    ]);
    expect(prod.project).toBe('digits');
  });

  it('has a CI snippet that is valid YAML and uses the flags the commands take', () => {
    const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
    const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
    const workflow = parseDocument(blocks.at(-1) ?? '');
    expect(workflow.errors).toEqual([]);
    const steps = (workflow.toJS() as { jobs: { deploy: { steps: { run?: string }[] } } }).jobs.deploy.steps;
    const commands = steps.flatMap((step) => (step.run ? [step.run] : [])).join('\n');
    expect(commands).toContain('npx mlscale plan --detailed-exitcode --json');
    expect(commands).toContain('npx mlscale apply --yes');
  });
});
