import { type DeploymentOperationsV1, type DeploymentStatus, MlscaleError } from '@mlscale/core';
import {
  createSecretMemory,
  type DeploymentRecord,
  reconcileStep,
  requestDeletion,
  requestSpec,
} from '@mlscale/core/provider-utils';
import type { AdapterContext } from './context.js';
import { runAction, saveRecord } from './deployment-actions.js';
import { awaitCreation, creatingObservation, ensureEndpoint } from './deployment-creation.js';
import { newestVertexTime, observeDeployment, type VertexObservation } from './deployment-observation.js';
import { planChange, planTeardown } from './deployment-plan.js';
import { predict } from './deployment-predict.js';
import { checkDeploymentSpec } from './deployment-requests.js';
import { deploymentStatus } from './deployment-status.js';
import { freshProgress, readDeployment } from './deployment-store.js';
import { targetsOf } from './deployment-targets.js';
import { listManagedEndpoints } from './endpoint-calls.js';
import { provider } from './errors.js';
import { signatureOfReference, signatureOfServing } from './model-signatures.js';
import { labelKeys } from './names.js';
import { containerLookup } from './serving-environment.js';
import { trafficIssues } from './traffic-limits.js';

/**
 * Deployments as Vertex endpoints, on core's convergence contract: `doCreate`, `doUpdate` and
 * `doDelete` record what is asked for in the endpoint's description and return; `doReconcile` takes one
 * step (`planChange` / `planTeardown`, carried out by `runAction`), starting at most one long-running
 * operation and never waiting on it; `doGet` and `doList` only read. Everything in flight lives in
 * Vertex (the record, the change's progress, operations), none of it in this process, except the
 * values behind sealed secrets this process was given.
 */
export function createDeploymentOperations(context: AdapterContext): DeploymentOperationsV1 {
  const { settings } = context;
  const secrets = createSecretMemory();

  function notFound(name: string): MlscaleError {
    return new MlscaleError({
      code: 'NotFound',
      provider,
      message: `No deployment named '${name}' on Vertex AI (${settings.project}/${settings.location}).`,
    });
  }

  /** A created endpoint that no read shows yet: worth a retry. */
  function unreadableEndpoint(name: string): MlscaleError {
    return new MlscaleError({
      code: 'BackendFailure',
      provider,
      retryable: true,
      message: `The endpoint of '${name}' was created but cannot be read yet.`,
    });
  }

  const observe = (name: string, signal: AbortSignal | undefined) => observeDeployment(context, name, signal);
  const statusOf = (observation: VertexObservation) => deploymentStatus(context, observation);

  /** The status with `record` (and `progress`) written: what a mutating call answers without reading again. */
  function statusWith(
    observation: VertexObservation,
    record: DeploymentRecord,
    progress = observation.progress,
  ): DeploymentStatus {
    return statusOf({ ...observation, record, progress });
  }

  return {
    validateSpec: trafficIssues,

    async doCreate(spec, options) {
      checkDeploymentSpec(spec, settings);
      secrets.remember(spec);
      const record = requestSpec(undefined, spec);
      const creation = await ensureEndpoint(context, record, options.signal);
      // Still being created: the record is in the request, and reconcile looks at the operation again.
      if (creation.state === 'creating')
        return statusOf(creatingObservation(context, record, creation.operation));
      const { endpoint } = creation;
      const stored = readDeployment(endpoint);
      if (!stored) {
        throw new MlscaleError({
          code: 'AlreadyExists',
          provider,
          message: `Endpoint ${endpoint.name} exists but was not created by mlscale (its description holds no deployment record); delete it or choose another name.`,
        });
      }
      if (stored.record.deleting) {
        throw new MlscaleError({
          code: 'Conflict',
          provider,
          retryable: true,
          message: `Deployment '${spec.name}' is being deleted; deploy it again once it is gone.`,
        });
      }
      const next = requestSpec(stored.record, spec);
      if (next.desiredHash !== stored.record.desiredHash) {
        throw new MlscaleError({
          code: 'AlreadyExists',
          provider,
          message: `Deployment '${spec.name}' exists with a different spec (endpoint ${endpoint.name}); use update to change it.`,
        });
      }
      const observation = (await observeDeployment(context, spec.name, options.signal, endpoint))!;
      if (!stored.record.failure) return statusWith(observation, next);
      // The same spec asked for again: a refusal recorded earlier is cleared, so it is tried again.
      const progress = freshProgress(next, newestVertexTime(observation));
      const saved = await saveRecord(context, endpoint, next, progress, options.signal);
      return statusWith({ ...observation, endpoint: saved }, next, progress);
    },

    async doUpdate(spec, options) {
      checkDeploymentSpec(spec, settings);
      secrets.remember(spec);
      const observation = await observe(spec.name, options.signal);
      if (!observation || observation.record.deleting) throw notFound(spec.name);
      // Sealed values must stand for values known here or to the serving container.
      const resolved = secrets.resolve(spec, containerLookup(observation, spec));
      if ('blocked' in resolved) {
        throw new MlscaleError({
          code: 'InvalidSpec',
          provider,
          message: `Cannot update '${spec.name}': ${resolved.blocked}.`,
        });
      }
      const next = requestSpec(observation.record, spec);
      if (next.desiredHash !== observation.record.desiredHash || observation.record.failure) {
        const progress = freshProgress(next, newestVertexTime(observation));
        const saved = await saveRecord(context, observation.endpoint, next, progress, options.signal);
        return statusWith({ ...observation, endpoint: saved }, next, progress);
      }
      return statusWith(observation, next);
    },

    async doDelete(name, options) {
      const observation = await observe(name, options.signal);
      if (!observation) return false;
      if (!observation.record.deleting)
        await saveRecord(
          context,
          observation.endpoint,
          requestDeletion(observation.record),
          undefined,
          options.signal,
        );
      return true;
    },

    doReconcile(name, options) {
      return reconcileStep<VertexObservation>(
        {
          provider,
          name,
          observe: async (signal) => {
            let observation = await observe(name, signal);
            // No record yet: its endpoint may still be being created (the create's refusal is thrown).
            if (!observation && (await awaitCreation(context, name, signal)) === 'created') {
              observation = await observe(name, signal);
              if (!observation) throw unreadableEndpoint(name);
            }
            return observation ? { record: observation.record, observation } : undefined;
          },
          advance: (record, observation, signal) => {
            const action = record.deleting
              ? planTeardown(observation)
              : planChange(record, observation, targetsOf(context, record.desired), new Date());
            return runAction(action, { context, secrets, record, observation, signal });
          },
          save: async (record, observation, signal) => {
            await saveRecord(context, observation.endpoint, record, undefined, signal);
          },
          // A refusal's reason may quote the values behind sealed secrets (an echoed container spec).
          mask: secrets.mask,
          status: async (signal) => {
            const observation = await observe(name, signal);
            return observation ? statusOf(observation) : undefined;
          },
        },
        options.signal,
      );
    },

    async doGet(name, options) {
      const observation = await observe(name, options.signal);
      return observation ? statusOf(observation) : undefined;
    },

    async *doList(options) {
      for await (const endpoint of listManagedEndpoints(context, options.signal)) {
        const name = endpoint.labels?.[labelKeys.deployment];
        if (!name) continue;
        const observation = await observeDeployment(context, name, options.signal, endpoint);
        if (observation && !observation.record.deleting) yield statusOf(observation);
      }
    },

    doPredict: (name, request, options) => predict(context, name, request, options),

    doResolveSignature(target, options) {
      return 'deployment' in target
        ? signatureOfServing(context, target.deployment, options.signal)
        : signatureOfReference(context, target.model, options.signal);
    },
  };
}
