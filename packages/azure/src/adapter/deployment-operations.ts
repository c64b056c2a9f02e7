import type { OnlineEndpoint } from '@azure/arm-machinelearning';
import { type DeploymentOperationsV1, type DeploymentSpec, MlscaleError } from '@mlscale/core';
import {
  createSecretMemory,
  type DeploymentRecord,
  encodeDeploymentRecord,
  reconcileStep,
  requestDeletion,
  requestSpec,
} from '@mlscale/core/provider-utils';
import type { AdapterContext } from './adapter-context.js';
import { endpointBody } from './deployment-bodies.js';
import {
  type DeploymentObservation,
  listAutoscaleSettings,
  observeEndpoint,
  readEndpoint,
} from './deployment-observation.js';
import { deploymentOptions } from './deployment-options.js';
import { endpointTags, recordOf, saveRecord } from './deployment-record-store.js';
import { statusOf } from './deployment-status.js';
import { advanceDeployment } from './deployment-steps.js';
import { assertModelsRegistered } from './deployment-targets.js';
import { resolveSignature } from './model-signatures.js';
import { managedByValue, propertyNames } from './resource-names.js';
import { scoreRequest } from './scoring-request.js';
import { machineLearningItems } from './sdk-pages.js';
import { provider } from './to-mlscale-error.js';
import { assertTrafficLimits, trafficLimitIssues } from './traffic-limits.js';
import { locationResolver } from './workspace-location.js';

function notFound(name: string): MlscaleError {
  return new MlscaleError({
    code: 'NotFound',
    provider,
    message: `No deployment named '${name}' on the azure backend.`,
  });
}

/**
 * The deployment group over Azure ML online endpoints. The record (the spec asked for, sealed, and the
 * one serving) lives in the endpoint's tags; `doCreate`, `doUpdate` and `doDelete` write it and start
 * the first operation, `doReconcile` takes one step (`advanceDeployment`), and `doGet`/`doList` only
 * read. Nothing about a deployment is held in this process but the values behind sealed secrets.
 */
export function createDeploymentOperations(context: AdapterContext): DeploymentOperationsV1 {
  const { settings } = context;
  const location = locationResolver(context);
  const secrets = createSecretMemory();

  /** The record and what Azure has; undefined when there is no endpoint mlscale made under the name. */
  const observe = async (
    name: string,
    signal: AbortSignal | undefined,
  ): Promise<{ record: DeploymentRecord; observation: DeploymentObservation } | undefined> => {
    const observation = await observeEndpoint(context, name, signal);
    const record = observation ? recordOf(observation.endpoint) : undefined;
    return observation && record ? { record, observation } : undefined;
  };

  const status = async (name: string, signal: AbortSignal | undefined) => {
    const seen = await observe(name, signal);
    return seen ? statusOf(context, seen.record, seen.observation) : undefined;
  };

  const step = (name: string, signal: AbortSignal | undefined) =>
    reconcileStep<DeploymentObservation>(
      {
        provider,
        name,
        observe: (stepSignal) => observe(name, stepSignal),
        advance: (record, observation, stepSignal) =>
          advanceDeployment({ context, name, record, observation, secrets, signal: stepSignal }),
        save: (record, _observation, stepSignal) => saveRecord(context, name, record, stepSignal),
        status: (stepSignal) => status(name, stepSignal),
        mask: secrets.mask,
      },
      signal,
    );

  /** Creates the endpoint with the record in its tags and its one immutable fact in `properties`. */
  const createEndpoint = async (spec: DeploymentSpec, signal: AbortSignal | undefined) => {
    const record = requestSpec(undefined, spec);
    const body = endpointBody(
      context,
      record.desired,
      deploymentOptions(spec),
      {
        location: await location(signal),
        tags: endpointTags(record),
        // Written once: Azure lets properties be added, never altered or removed.
        properties: { [propertyNames.createdBy]: managedByValue },
      },
      {},
    );
    await context.start(`Creating endpoint '${spec.name}'`, signal, (clients, call) =>
      clients.machineLearning.onlineEndpoints.beginCreateOrUpdate(
        settings.resourceGroup,
        settings.workspace,
        spec.name,
        body,
        call,
      ),
    );
  };

  const refuseForeign = (endpoint: OnlineEndpoint, name: string, doing: 'manage' | 'delete') =>
    new MlscaleError({
      code: doing === 'manage' ? 'AlreadyExists' : 'Conflict',
      provider,
      message: `Endpoint '${name}' exists in the workspace and was not made by mlscale (it has no mlscale record in its tags); ${doing} it with the Azure tools, or choose another name.${endpoint.properties.provisioningState === 'Deleting' ? ' It is being deleted.' : ''}`,
    });

  return {
    validateSpec: trafficLimitIssues,

    async doCreate(spec, options) {
      const { signal } = options;
      assertTrafficLimits(spec);
      deploymentOptions(spec);
      await assertModelsRegistered(context, spec, signal);
      const existing = await observeEndpoint(context, spec.name, signal);
      if (!existing) {
        secrets.remember(spec);
        await createEndpoint(spec, signal);
      } else {
        const record = recordOf(existing.endpoint);
        if (!record) throw refuseForeign(existing.endpoint, spec.name, 'manage');
        if (record.deleting) {
          throw new MlscaleError({
            code: 'Conflict',
            provider,
            message: `Deployment '${spec.name}' is being deleted; deploy it again once the delete has finished.`,
          });
        }
        const next = requestSpec(record, spec);
        if (next.desiredHash !== record.desiredHash) {
          throw new MlscaleError({
            code: 'AlreadyExists',
            provider,
            message: `Deployment '${spec.name}' already exists with another spec; use update to change it.`,
          });
        }
        secrets.remember(spec);
        // The same spec again: idempotent, and a recorded failure is cleared so the next step retries.
        if (encodeDeploymentRecord(next) !== encodeDeploymentRecord(record))
          await saveRecord(context, spec.name, next, signal);
      }
      const created = await status(spec.name, signal);
      if (!created) throw notFound(spec.name);
      return created;
    },

    async doUpdate(spec, options) {
      const { signal } = options;
      assertTrafficLimits(spec);
      deploymentOptions(spec);
      await assertModelsRegistered(context, spec, signal);
      const seen = await observe(spec.name, signal);
      if (!seen || seen.record.deleting) throw notFound(spec.name);
      secrets.remember(spec);
      const next = requestSpec(seen.record, spec);
      if (encodeDeploymentRecord(next) !== encodeDeploymentRecord(seen.record))
        await saveRecord(context, spec.name, next, signal);
      // Start converging: one step (the first operations), without waiting for them.
      const updated = await step(spec.name, signal);
      if (!updated) throw notFound(spec.name);
      return updated;
    },

    async doDelete(name, options) {
      const { signal } = options;
      const observation = await observeEndpoint(context, name, signal);
      if (!observation) return false;
      const record = recordOf(observation.endpoint);
      if (!record) throw refuseForeign(observation.endpoint, name, 'delete');
      if (!record.deleting) await saveRecord(context, name, requestDeletion(record), signal);
      await step(name, signal);
      return true;
    },

    doReconcile(name, options) {
      return step(name, options.signal);
    },

    doGet(name, options) {
      return status(name, options.signal);
    },

    async *doList(options) {
      const { signal } = options;
      const names = await context.call(
        'Listing endpoints',
        async (clients) => {
          const found: string[] = [];
          for await (const endpoint of machineLearningItems(
            clients,
            clients.machineLearning.onlineEndpoints.list(settings.resourceGroup, settings.workspace, {
              abortSignal: signal,
            }),
          )) {
            if (endpoint.name && recordOf(endpoint)) found.push(endpoint.name);
          }
          return found;
        },
        signal,
      );
      const autoscaleSettings = await listAutoscaleSettings(context, signal);
      for (const name of names) {
        const observation = await observeEndpoint(context, name, signal, autoscaleSettings);
        const record = observation ? recordOf(observation.endpoint) : undefined;
        if (observation && record) yield statusOf(context, record, observation);
      }
    },

    doResolveSignature: (target, options) => resolveSignature(context, target, options),

    async doPredict(name, request, options) {
      const snapshot = await readEndpoint(context, name, options.signal);
      if (!snapshot || !recordOf(snapshot.endpoint)) throw notFound(name);
      return scoreRequest(context, snapshot, request, options.signal);
    },
  };
}
