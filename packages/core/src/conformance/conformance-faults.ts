import { expect, it } from 'vitest';
import type { DeploymentStatus } from '../backend/v1/index.js';
import { MlscaleError } from '../errors.js';
import type { DeploymentSpecInput } from '../spec/index.js';
import type { ConformanceCloud, ConformanceFault } from './conformance-cloud.js';
import {
  autoscaledSpec,
  type ConformanceContext,
  deleteAndCheckNothingLeft,
  expectAutoscalingInForce,
  mutatingRequests,
  specFor,
} from './conformance-context.js';

/** How many times the sweeps' persistent 500 is armed: more than any retry budget. */
const persistent = 1000;

/**
 * Faults and crashes at every mutating request the cloud receives during a deploy and during a model
 * update: each kind of fault in turn at each request, then a process that dies right after each
 * request. Whatever happens, the previous spec keeps serving with its autoscaling, a re-run converges,
 * attempts stay within the client's retry budget, and a delete leaves nothing behind.
 */
export function describeFaultSweeps(context: ConformanceContext): void {
  const { options, prefix } = context;
  const timeout = context.timeout * 10;
  const faults = options.faults ?? (['accessDenied', 'serverError', 'throttling'] as const);
  const spec = (name: string): DeploymentSpecInput =>
    options.autoscaling ? autoscaledSpec(context, name) : specFor(context, name);
  const expectScaling = async (status: DeploymentStatus) => {
    if (options.autoscaling) await expectAutoscalingInForce(context, status);
  };
  const needCloud = (test: { skip: (reason: string) => void }): ConformanceCloud | undefined => {
    const cloud = context.cloud();
    if (!cloud) test.skip('no cloud view given');
    return cloud;
  };

  for (const fault of faults) {
    it(
      `deploy: ${describeFault(fault)} at each mutating request, then a re-run converges and delete leaves nothing`,
      async (test) => {
        const cloud = needCloud(test);
        if (!cloud) return;
        const client = context.client();
        const { operations, counts } = await learnRequests(cloud, () =>
          client.deploy(spec(`${prefix}-probe-d${fault[0]}`)),
        );
        await deleteAndCheckNothingLeft(context, client, `${prefix}-probe-d${fault[0]}`);
        for (const [index, operation] of operations.entries()) {
          const name = `${prefix}-d${index}-${fault.slice(0, 6).toLowerCase()}`;
          const where = `${describeFault(fault)} at ${operation} (request ${index + 1} of a deploy)`;
          cloud.resetRequests();
          cloud.injectFault(fault, operation, fault === 'serverError' ? persistent : 1);
          const outcome = await settle(client.deploy(spec(name)));
          const attempts = countOf(cloud, operation);
          cloud.clearFaults();
          if (fault === 'throttling') {
            expect(outcome, where).not.toBeInstanceOf(Error);
            // One throttled answer costs one retry: at most one request more than a clean run makes.
            expect(attempts, `${where}: attempts`).toBeLessThanOrEqual(counts.get(operation)! + 1);
            await expectScaling(outcome as DeploymentStatus);
            await deleteAndCheckNothingLeft(context, client, name);
            continue;
          }
          expect(MlscaleError.isInstance(outcome), `${where}: the deploy fails`).toBe(true);
          if (fault === 'serverError') {
            expect(attempts, `${where}: tried exactly the retry budget`).toBe(context.maxAttempts());
            const rerun = await client.deploy(spec(name));
            expect(rerun.state, `${where}: a re-run converges`).toBe('InService');
            await expectScaling(rerun);
          } else {
            expect((outcome as MlscaleError).code, where).toBe('Unauthorized');
            // Not retried; one more request of the kind may record the reason.
            expect(attempts, `${where}: a refusal is not retried`).toBeLessThanOrEqual(2);
          }
          await deleteAndCheckNothingLeft(context, client, name);
        }
      },
      timeout,
    );

    it(
      `update: ${describeFault(fault)} at each mutating request leaves one whole version serving with its autoscaling`,
      async (test) => {
        const cloud = needCloud(test);
        if (!cloud) return;
        if (!options.updatedModel) return test.skip('no second model given');
        const client = context.client();
        const change = (name: string) => ({ name, model: options.updatedModel! });
        const probe = `${prefix}-probe-u${fault[0]}`;
        await client.deploy(spec(probe));
        const baseline = (await cloud.resources(probe)).length;
        const { operations, counts } = await learnRequests(cloud, () => client.update(change(probe)));
        await deleteAndCheckNothingLeft(context, client, probe);
        for (const [index, operation] of operations.entries()) {
          const name = `${prefix}-u${index}-${fault.slice(0, 6).toLowerCase()}`;
          const where = `${describeFault(fault)} at ${operation} (request ${index + 1} of an update)`;
          const before = await client.deploy(spec(name));
          cloud.resetRequests();
          cloud.injectFault(fault, operation, fault === 'serverError' ? persistent : 1);
          const outcome = await settle(client.update(change(name)));
          const attempts = countOf(cloud, operation);
          cloud.clearFaults();
          const after = await client.get(name);
          // One whole version serves: the new one if the update went through, else the previous one.
          const serving = after.servingSpecHash;
          if (outcome instanceof Error) {
            expect(serving, `${where}: the previous spec serves`).toBe(before.specHash);
            if (fault === 'serverError') {
              expect(attempts, `${where}: tried exactly the retry budget`).toBe(context.maxAttempts());
            } else {
              expect((outcome as MlscaleError).code, where).toBe('Unauthorized');
              expect(after.state, `${where}: back in service`).toBe('InService');
              expect(after.specHash, `${where}: the record went back to the serving spec`).toBe(
                before.specHash,
              );
              // A refusal met while converging is recorded; one before anything was recorded is only thrown.
              if (/keeps serving spec/.test((outcome as MlscaleError).message)) {
                expect(after.stateReason ?? '', `${where}: the status says why`).toMatch(/refused/i);
              }
            }
          } else {
            expect(after.specHash, where).toBe(serving);
            expect(attempts, `${where}: attempts`).toBeLessThanOrEqual(counts.get(operation)! + 1);
          }
          await expectScaling(after);
          // A re-run of the update converges, and nothing is left over from the attempt.
          const rerun = await client.update(change(name));
          expect(rerun.state, `${where}: a re-run converges`).toBe('InService');
          expect(rerun.servingSpecHash, where).toBe(rerun.specHash);
          await expectScaling(rerun);
          await client.reconcile(name);
          expect((await cloud.resources(name)).length, `${where}: nothing orphaned`).toBe(baseline);
          await deleteAndCheckNothingLeft(context, client, name);
        }
      },
      timeout,
    );
  }

  it(
    'a process that dies right after each mutating request of a deploy or an update: another process re-runs it and it converges',
    async (test) => {
      const cloud = needCloud(test);
      if (!cloud) return;
      if (!context.setup().reopen) return test.skip('no reopen given');
      const client = context.client();
      const deployProbe = `${prefix}-probe-rd`;
      const { operations: deployOperations } = await learnRequests(cloud, () =>
        client.deploy(spec(deployProbe)),
      );
      await deleteAndCheckNothingLeft(context, client, deployProbe);
      for (const [index, operation] of deployOperations.entries()) {
        const name = `${prefix}-rd${index}`;
        const where = `killed after ${operation} (request ${index + 1} of a deploy)`;
        const outcome = await killedAfter(cloud, operation, (signal) =>
          client.deploy(spec(name), { signal }),
        );
        expect(MlscaleError.hasCode(outcome, 'Aborted'), where).toBe(true);
        const other = await context.reopen();
        const rerun = await other.deploy(spec(name));
        expect(rerun.state, `${where}: the re-run converges`).toBe('InService');
        await expectScaling(rerun);
        await deleteAndCheckNothingLeft(context, other, name);
      }
      if (!options.updatedModel) return;
      const change = (name: string) => ({ name, model: options.updatedModel! });
      const updateProbe = `${prefix}-probe-ru`;
      await client.deploy(spec(updateProbe));
      const { operations: updateOperations } = await learnRequests(cloud, () =>
        client.update(change(updateProbe)),
      );
      await deleteAndCheckNothingLeft(context, client, updateProbe);
      for (const [index, operation] of updateOperations.entries()) {
        const name = `${prefix}-ru${index}`;
        const where = `killed after ${operation} (request ${index + 1} of an update)`;
        await client.deploy(spec(name));
        const outcome = await killedAfter(cloud, operation, (signal) =>
          client.update(change(name), { signal }),
        );
        expect(MlscaleError.hasCode(outcome, 'Aborted'), where).toBe(true);
        const other = await context.reopen();
        const rerun = await other.update(change(name));
        expect(rerun.state, `${where}: the re-run converges`).toBe('InService');
        expect(rerun.servingSpecHash).toBe(rerun.specHash);
        expect(rerun.spec.model).toMatchObject(options.updatedModel);
        await expectScaling(rerun);
        await deleteAndCheckNothingLeft(context, other, name);
      }
    },
    timeout,
  );
}

function describeFault(fault: ConformanceFault): string {
  return fault === 'accessDenied'
    ? 'access denied'
    : fault === 'serverError'
      ? 'a persistent 500'
      : 'throttling';
}

/** The distinct mutating requests a clean `run` makes, in the order they first come, and how often each. */
async function learnRequests(
  cloud: ConformanceCloud,
  run: () => Promise<unknown>,
): Promise<{ operations: string[]; counts: Map<string, number> }> {
  cloud.resetRequests();
  await run();
  const counts = new Map<string, number>();
  for (const operation of cloud.requests()) counts.set(operation, (counts.get(operation) ?? 0) + 1);
  const operations = [...new Set(mutatingRequests(cloud))];
  expect(operations.length, 'a change makes mutating requests').toBeGreaterThan(0);
  return { operations, counts };
}

function countOf(cloud: ConformanceCloud, operation: string): number {
  return cloud.requests().filter((seen) => seen === operation).length;
}

/** The promise's value, or the error it rejected with. */
function settle<T>(promise: Promise<T>): Promise<T | Error> {
  return promise.then(
    (value) => value,
    (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
  );
}

/** Runs `run`, aborting it right after the cloud has carried out the first `operation`: a crash there. */
async function killedAfter(
  cloud: ConformanceCloud,
  operation: string,
  run: (signal: AbortSignal) => Promise<unknown>,
): Promise<unknown> {
  const controller = new AbortController();
  const stop = cloud.onRequest((seen) => {
    if (seen === operation) controller.abort();
  });
  try {
    return await settle(run(controller.signal));
  } finally {
    stop();
  }
}
