import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildConfigJsonSchema } from './config-json-schema.js';

const shippedPath = fileURLToPath(new URL('../../schema/mlscale.schema.json', import.meta.url));

describe('the shipped JSON Schema', () => {
  it('is current with the zod schemas (regenerate: MLSCALE_UPDATE_SCHEMA=1 npx vitest run packages/cli/src/schema)', () => {
    const generated = buildConfigJsonSchema();
    if (process.env.MLSCALE_UPDATE_SCHEMA === '1')
      writeFileSync(shippedPath, `${JSON.stringify(generated, null, 2)}\n`);
    // Compared as data: the formatter may lay the file out its own way.
    expect(JSON.parse(readFileSync(shippedPath, 'utf8'))).toEqual(generated);
  });

  it('describes deployments with core fields plus backend and dependsOn, and requires name and model', () => {
    const schema = buildConfigJsonSchema() as {
      $defs: Record<string, { properties: Record<string, unknown>; required?: string[] }>;
    };
    const deployment = schema.$defs.deployment!;
    expect(Object.keys(deployment.properties)).toEqual(
      expect.arrayContaining(['name', 'model', 'replicas', 'autoscaling', 'backend', 'dependsOn']),
    );
    expect(deployment.required).toEqual(expect.arrayContaining(['name', 'model']));
    expect(deployment.required).not.toContain('replicas');
    expect(schema.$defs.deploymentOverride!.required).toBeUndefined();
    expect(Object.keys(schema.$defs.trainingJob!.properties)).toEqual(
      expect.arrayContaining(['command', 'resources', 'spot', 'backend']),
    );
  });

  it('accepts the README example and flags what the CLI rejects, as an editor would', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validate = ajv.compile(buildConfigJsonSchema());
    const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
    const example = parse(/```yaml\n([\s\S]*?)```/.exec(readme)?.[1] ?? '') as Record<string, unknown>;
    expect(validate(example), JSON.stringify(validate.errors)).toBe(true);
    const broken = structuredClone(example) as { deployments: Record<string, unknown>[] };
    broken.deployments[0]!.replicas = 'two';
    broken.deployments[0]!.replica = 2;
    expect(validate(broken)).toBe(false);
    expect(validate.errors?.map((error) => error.instancePath)).toEqual(
      expect.arrayContaining(['/deployments/0/replicas']),
    );
    expect(validate.errors?.some((error) => error.keyword === 'additionalProperties')).toBe(true);
  });
});
