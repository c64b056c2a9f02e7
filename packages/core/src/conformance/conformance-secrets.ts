import { expect, it } from 'vitest';

import { isSealedValue } from '../secrets/seal-secrets.js';
import {
  type ConformanceContext,
  deleteAndCheckNothingLeft,
  rejection,
  specFor,
} from './conformance-context.js';

/** Recognisable fake secrets: any of these in an output is a leak. */
const token = 'sk-conformance-TOKEN-3f9a1c';
const password = 'pw-conformance-PASSWORD-77e2';
const rotated = 'sk-conformance-ROTATED-0b5d';

/** Secrets reach the container and nothing else; a changed secret is still rolled out. */
export function describeSecrets(context: ConformanceContext): void {
  const { options, prefix, timeout } = context;

  it(
    'keeps secrets out of statuses, lists, records, events, audit entries and errors, yet rolls out a changed one',
    async (test) => {
      if (options.environment === false) return test.skip('the backend passes no environment to containers');
      const client = context.client();
      const name = `${prefix}-secrets`;
      const environment = {
        API_TOKEN: token,
        DATABASE_URL: `postgres://app:${password}@db.internal:5432/app`,
        LOG_LEVEL: 'info',
      };
      const outputs: unknown[] = [];
      const deployed = await client.deploy(specFor(context, name, { environment }));
      outputs.push(deployed, await client.get(name));
      for await (const status of client.list()) outputs.push(status);
      expect(deployed.spec.environment?.LOG_LEVEL).toBe('info');
      expect(isSealedValue(deployed.spec.environment?.API_TOKEN)).toBe(true);
      expect(isSealedValue(deployed.spec.environment?.DATABASE_URL)).toBe(true);

      const cloud = context.cloud();
      if (cloud) {
        const running = await cloud.containerEnvironment(name);
        if (running) expect(running.API_TOKEN, 'the container gets the value itself').toBe(token);
      }

      // A change of the secret alone is a change: recorded under a new hash and rolled out.
      const rotatedStatus = await client.update({
        name,
        environment: { ...environment, API_TOKEN: rotated },
      });
      outputs.push(rotatedStatus);
      expect(rotatedStatus.specHash).not.toBe(deployed.specHash);
      if (cloud) {
        const running = await cloud.containerEnvironment(name);
        if (running) expect(running.API_TOKEN).toBe(rotated);
      }

      // Another process, which never saw the values, changes something else: the secrets stay as they are.
      if (context.setup().reopen) {
        const other = await context.reopen();
        const scaled = await other.update({ name, replicas: 2 });
        outputs.push(scaled);
        expect(scaled.specHash).not.toBe(rotatedStatus.specHash);
        if (cloud) {
          const running = await cloud.containerEnvironment(name);
          if (running) expect(running.API_TOKEN, 'not replaced by its hash').toBe(rotated);
        }
      }

      // An error about a spec with secrets does not quote them.
      const refused = await rejection(client.deploy(specFor(context, name, { environment, replicas: 3 })));
      outputs.push(refused.message, refused.issues);

      outputs.push(context.events, context.audit.entries);
      if (cloud) outputs.push(await cloud.dump());
      const text = JSON.stringify(outputs, (_key, value) => (value instanceof Error ? value.message : value));
      for (const secret of [token, password, rotated]) expect(text, `leaked ${secret}`).not.toContain(secret);
      await deleteAndCheckNothingLeft(context, client, name);
    },
    timeout * 2,
  );
}
