import { expect, it } from 'vitest';
import { MlscaleError } from '../errors.js';
import {
  autoscaledSpec,
  type ConformanceContext,
  deleteAndCheckNothingLeft,
  expectAutoscalingInForce,
  rejection,
  specFor,
} from './conformance-context.js';
import { defaultPredictionCheck } from './conformance-lifecycle.js';

/** Changes to a running deployment: autoscaling on and off, merged and whole updates, waits and aborts. */
export function describeChanges(context: ConformanceContext): void {
  const { options, prefix, timeout } = context;
  const client = () => context.client();
  const rollout = options.rollout ?? { steps: [50, 100], stepSeconds: 0 };

  it(
    'turns autoscaling on and off, as the cloud itself reports it',
    async (test) => {
      if (!options.autoscaling) return test.skip('no autoscaling policy given');
      const name = `${prefix}-autoscale`;
      await client().deploy(specFor(context, name));
      const scaled = await client().autoscale(name, options.autoscaling);
      expect(scaled.state).toBe('InService');
      await expectAutoscalingInForce(context, scaled);
      const fixed = await client().scale(name, 2);
      expect(fixed.autoscaling).toBeUndefined();
      expect(fixed.replicas.desired).toBe(2);
      const cloud = context.cloud();
      if (cloud) expect(await cloud.autoscaling(name)).toBeUndefined();
      const again = await client().autoscale(name, options.autoscaling);
      await expectAutoscalingInForce(context, again);
      const off = await client().autoscale(name, null);
      expect(off.autoscaling).toBeUndefined();
      if (cloud) expect(await cloud.autoscaling(name)).toBeUndefined();
      await deleteAndCheckNothingLeft(context, client(), name);
    },
    timeout,
  );

  it(
    "merges an update onto the recorded spec: the README's update({ name, model, rollout }) keeps autoscaling",
    async (test) => {
      if (!options.updatedModel) return test.skip('no second model given');
      const name = `${prefix}-merge`;
      const spec = options.autoscaling ? autoscaledSpec(context, name) : specFor(context, name);
      const first = await client().deploy(spec);
      const updated = await client().update({ name, model: options.updatedModel, rollout });
      expect(updated.state).toBe('InService');
      expect(updated.specHash).not.toBe(first.specHash);
      expect(updated.servingSpecHash).toBe(updated.specHash);
      expect(updated.spec.model).toMatchObject(options.updatedModel);
      if (options.autoscaling) await expectAutoscalingInForce(context, updated);
      expect(updated.spec.replicas).toBe(first.spec.replicas);
      const response = await client().predict(name, options.predictRequest);
      (options.checkPrediction ?? defaultPredictionCheck)(response, options.predictRequest);
      // An update that changes nothing is a no-op.
      const same = await client().update({ name, model: options.updatedModel });
      expect(same.specHash).toBe(updated.specHash);
      await deleteAndCheckNothingLeft(context, client(), name);
    },
    timeout * 2,
  );

  it(
    'refuses an update to a model that would break callers before anything changes, unless allowed and switched at once',
    async (test) => {
      if (!options.incompatibleModel) return test.skip('no incompatible model given');
      const name = `${prefix}-signature`;
      const first = await client().deploy(specFor(context, name));
      const before = context.calls.filter((call) => call === 'deployments.doUpdate').length;
      const refused = await rejection(client().update({ name, model: options.incompatibleModel }));
      expect(refused.code).toBe('InvalidSpec');
      expect(refused.issues.map((issue) => issue.path)).toContain('model');
      expect(refused.message).toMatch(/would break callers/);
      expect(context.calls.filter((call) => call === 'deployments.doUpdate').length, 'no update sent').toBe(
        before,
      );
      const unchanged = await client().get(name);
      expect(unchanged.specHash).toBe(first.specHash);
      expect(unchanged.servingSpecHash).toBe(first.specHash);
      // Allowed, a signature change still may not be canaried: callers would see two shapes.
      const stepped = await rejection(
        client().update({
          name,
          model: options.incompatibleModel,
          rollout: { allowSignatureChange: true, steps: [50, 100], stepSeconds: 0 },
        }),
      );
      expect(stepped.code).toBe('InvalidSpec');
      expect(stepped.issues.map((issue) => issue.path)).toContain('rollout.steps');
      const switched = await client().update({
        name,
        model: options.incompatibleModel,
        rollout: { allowSignatureChange: true, steps: [100], stepSeconds: 0 },
      });
      expect(switched.state).toBe('InService');
      expect(switched.spec.model).toMatchObject(options.incompatibleModel);
      await deleteAndCheckNothingLeft(context, client(), name);
    },
    timeout * 2,
  );

  it(
    'replaces the whole spec with update(spec, { replace: true }): what it leaves out goes',
    async (test) => {
      if (!options.autoscaling) return test.skip('no autoscaling policy given');
      const name = `${prefix}-replace`;
      await client().deploy(autoscaledSpec(context, name));
      const replaced = await client().update({ ...specFor(context, name), replicas: 1 }, { replace: true });
      expect(replaced.state).toBe('InService');
      expect(replaced.spec.autoscaling).toBeUndefined();
      expect(replaced.autoscaling).toBeUndefined();
      const cloud = context.cloud();
      if (cloud) expect(await cloud.autoscaling(name)).toBeUndefined();
      await deleteAndCheckNothingLeft(context, client(), name);
    },
    timeout,
  );

  it(
    'returns at once with wait: false; reconcile finishes, and a later get reports it',
    async () => {
      const name = `${prefix}-nowait`;
      const started = await client().deploy(specFor(context, name), { wait: false });
      expect(['Creating', 'InService']).toContain(started.state);
      const finished = await client().reconcile(name);
      expect(finished?.state).toBe('InService');
      expect((await client().get(name)).state).toBe('InService');
      await client().delete(name, { wait: false });
      expect(await client().reconcile(name)).toBeUndefined();
      await expect(client().get(name)).rejects.toSatisfy((error) => MlscaleError.hasCode(error, 'NotFound'));
      const cloud = context.cloud();
      if (cloud) expect(await cloud.resources(name)).toEqual([]);
    },
    timeout,
  );

  it(
    'gives up at timeoutMs with Timeout, and a later reconcile finishes the deployment',
    async (test) => {
      if (options.convergesAtOnce) return test.skip('the backend serves before a wait could time out');
      const name = `${prefix}-timeout`;
      const error = await rejection(client().deploy(specFor(context, name), { timeoutMs: 0 }));
      expect(error.code).toBe('Timeout');
      expect(error.message).toContain(name);
      const status = await client().reconcile(name);
      expect(status?.state).toBe('InService');
      await deleteAndCheckNothingLeft(context, client(), name);
    },
    timeout,
  );

  it(
    'stops waiting when aborted, with Aborted, and the deployment can be finished and deleted after',
    async (test) => {
      if (options.convergesAtOnce) return test.skip('the backend serves before a wait could be aborted');
      const name = `${prefix}-abort`;
      const controller = new AbortController();
      // Abort once the wait has started: the backend has recorded the deployment and is converging it.
      const aborting = context.clientWith({
        onEvent: (event) => {
          if (event.type === 'operation-progress') controller.abort();
        },
      });
      const error = await rejection(aborting.deploy(specFor(context, name), { signal: controller.signal }));
      expect(error.code).toBe('Aborted');
      // Whatever the abort left, deploying the same spec again finishes it.
      const status = await client().deploy(specFor(context, name));
      expect(status.state).toBe('InService');
      await deleteAndCheckNothingLeft(context, client(), name);
    },
    timeout,
  );
}
