import {
  type DeploymentOperationsV1,
  type DeploymentSpec,
  deploymentSpecSchema,
  MlscaleError,
  parseSpec,
  resourceNameSchema,
} from '@mlscale/core';
import {
  createSecretMemory,
  type DeploymentRecord,
  reconcileStep,
  requestDeletion,
  requestSpec,
} from '@mlscale/core/provider-utils';
import type { AdapterContext } from './adapter-context.js';
import { damagedStatus, refuseUnknownSpec, unknownSpec } from './damaged-record.js';
import { fleetNames } from './deployment-fleet.js';
import {
  type DamagedDeployment,
  type DeploymentObservation,
  type EndpointReading,
  observeDeployment,
} from './deployment-observation.js';
import { predict } from './deployment-predict.js';
import { createFleet, ensureFleet, refusedAfterCreating } from './deployment-resources.js';
import { statusOf } from './deployment-status.js';
import { recordTags, saveRecord } from './endpoint-record.js';
import { removeLeftovers } from './garbage-collection.js';
import { modelSignature, servingSignature } from './model-signatures.js';
import { deploymentAwsOptions } from './provider-options.js';
import { advanceDeployment, type PlannerContext } from './reconcile-plan.js';
import { awsTags } from './resource-tags.js';
import { assertSageMakerAccepts, sageMakerSpecIssues } from './sagemaker-spec-limits.js';
import { refuseSteppedVariantChange } from './variant-continuity.js';

/** User tag keys SageMaker or mlscale reserve. */
const reservedTagPrefixes = ['mlscale:', 'aws:'];

/** What SageMaker cannot run, refused before anything is created or recorded. */
function checkDeployable(spec: DeploymentSpec): void {
  deploymentAwsOptions(spec.providerOptions);
  // The client checked this already (validateSpec); a direct caller of the backend gets the same answer.
  assertSageMakerAccepts(spec);
  const reserved = Object.keys(spec.tags ?? {}).filter((key) =>
    reservedTagPrefixes.some((prefix) => key.startsWith(prefix)),
  );
  if (reserved.length > 0) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      provider: 'aws',
      message: `tags: ${reserved.join(', ')}: keys starting with ${reservedTagPrefixes.join(' or ')} are reserved (mlscale records the deployment under mlscale: tags; AWS owns aws:).`,
      issues: reserved.map((key) => ({ path: `tags.${key}`, message: 'reserved tag key' })),
    });
  }
  if (spec.serverless && spec.autoscaling) {
    throw new MlscaleError({
      code: 'Unsupported',
      provider: 'aws',
      message: `Deployment '${spec.name}' is serverless: SageMaker scales it by itself (up to serverless.maxConcurrency); remove autoscaling.`,
    });
  }
  if (spec.autoscaling && spec.autoscaling.minReplicas < 1) {
    throw new MlscaleError({
      code: 'Unsupported',
      provider: 'aws',
      message:
        'autoscaling.minReplicas: SageMaker real-time endpoints keep at least one instance; use serverless to scale to zero.',
    });
  }
  if (!spec.serverless && spec.replicas < 1) {
    throw new MlscaleError({
      code: 'Unsupported',
      provider: 'aws',
      message:
        'replicas: SageMaker real-time endpoints run at least one instance; use serverless for scale to zero, or delete the deployment.',
    });
  }
}

function beingDeleted(name: string): MlscaleError {
  return new MlscaleError({
    code: 'Conflict',
    provider: 'aws',
    retryable: true,
    message: `Deployment '${name}' is being deleted; deploy it again once it is gone.`,
  });
}

function notFound(name: string): MlscaleError {
  return new MlscaleError({
    code: 'NotFound',
    provider: 'aws',
    message: `No SageMaker endpoint named '${name}'.`,
  });
}

function foreign(name: string): MlscaleError {
  return new MlscaleError({
    code: 'Conflict',
    provider: 'aws',
    message: `SageMaker endpoint '${name}' was not created by mlscale (it has no mlscale:deployment tag naming it and no record); manage it with the tools that made it, or delete it and deploy again.`,
  });
}

/**
 * Deployments as SageMaker endpoints, under the convergence contract: a mutating call records the
 * desired spec in the endpoint's tags (see `endpoint-record.ts`) after creating what it needs, and
 * returns; `doReconcile` takes one step (`reconcile-plan.ts`); reads only read.
 *
 *   doCreate: upload the artifact, CreateModel(s), CreateEndpointConfig (each adopted when an earlier
 *             run made it), CreateEndpoint carrying the record → Creating
 *   doUpdate: a new fleet's models and config first (adopted likewise), then the record (AddTags) →
 *             Updating; a change of counts, weights or autoscaling only records
 *   doDelete: the record marks the deletion (AddTags) → Deleting; with no endpoint, what a crashed
 *             process left is removed at once
 *
 * An endpoint whose record is damaged (`DamagedDeployment`) reads as Failed; doCreate and doUpdate
 * with a whole spec write a new record for it, doDelete one that asks for its deletion.
 */
export function createDeploymentOperations(context: AdapterContext): DeploymentOperationsV1 {
  const secrets = createSecretMemory();
  const planner: PlannerContext = { context, secrets };

  function checkName(name: string): string {
    return parseSpec(resourceNameSchema, name, 'deployment name');
  }

  /** The status of what was read: undefined when there is no deployment (absent, foreign). */
  function statusOfReading(reading: EndpointReading) {
    if (reading.kind === 'managed') return statusOf(context, reading.observation);
    if (reading.kind === 'damaged') return damagedStatus(context, reading.damaged);
    return undefined;
  }

  /** The status after a mutating call, read again unless nothing but the record changed. */
  async function statusAfter(
    observation: DeploymentObservation,
    name: string,
    signal: AbortSignal | undefined,
  ) {
    if (!observation.changed) return statusOf(context, observation);
    const status = await statusOfReading(await observeDeployment(context, name, signal));
    if (!status) throw notFound(name);
    return status;
  }

  /**
   * A deploy or a whole-spec update of a deployment whose record is damaged: the endpoint is adopted
   * with a new record asking for `spec` (its fleet made first, as for any update); reconcile then
   * rolls it out if the endpoint runs something else. What serves now is unknown, so nothing is
   * recorded as serving until it converges.
   */
  async function rewriteDamaged(
    spec: DeploymentSpec,
    damaged: DamagedDeployment,
    what: 'deploy' | 'update',
    signal: AbortSignal | undefined,
  ) {
    if (damaged.endpoint.EndpointStatus === 'Deleting') throw beingDeleted(spec.name);
    const record = requestSpec(undefined, spec);
    recordTags(spec.name, record);
    if (damaged.endpoint.EndpointConfigName !== fleetNames(record.desired).endpointConfig) {
      const ready = await ensureFleet(
        context,
        secrets,
        record.desired,
        damaged.endpoint.EndpointConfigName,
        what,
        signal,
      );
      if (ready !== 'ready') {
        throw new MlscaleError({
          code: 'InvalidSpec',
          provider: 'aws',
          message: `Cannot ${what} '${spec.name}': ${ready.blocked}.`,
        });
      }
    }
    await saveRecord(context, { arn: damaged.arn, tags: { ...damaged.tags } }, record, signal);
    const status = await statusOfReading(await observeDeployment(context, spec.name, signal));
    if (!status) throw notFound(spec.name);
    return status;
  }

  /** An existing endpoint met by doCreate: the same spec recorded is its status; anything else refuses. */
  async function existing(
    spec: DeploymentSpec,
    observation: DeploymentObservation,
    signal: AbortSignal | undefined,
  ) {
    const { record } = observation;
    if (record.deleting) throw beingDeleted(spec.name);
    const next = requestSpec(record, spec);
    if (next.desiredHash !== record.desiredHash) {
      throw new MlscaleError({
        code: 'AlreadyExists',
        provider: 'aws',
        message: `Deployment '${spec.name}' already exists with a different spec; use update to change it.`,
      });
    }
    // Asking again for a spec that was refused clears the refusal, so reconcile tries it again.
    if (record.failure) await saveRecord(context, observation, next, signal);
    return statusOf(context, observation);
  }

  return {
    validateSpec: sageMakerSpecIssues,

    doResolveSignature(target, { signal }) {
      return 'deployment' in target
        ? servingSignature(context, checkName(target.deployment), signal)
        : modelSignature(context, target.model, signal);
    },

    async doCreate(input, { signal }) {
      const spec = parseSpec(deploymentSpecSchema, input, 'deployment spec');
      checkDeployable(spec);
      refuseUnknownSpec(spec);
      secrets.remember(spec);
      const reading = await observeDeployment(context, spec.name, signal);
      if (reading.kind === 'damaged') return rewriteDamaged(spec, reading.damaged, 'deploy', signal);
      if (reading.kind === 'foreign') {
        throw new MlscaleError({
          code: 'AlreadyExists',
          provider: 'aws',
          message: `A SageMaker endpoint named '${spec.name}' exists and was not created by mlscale; choose another name, or delete it first.`,
        });
      }
      if (reading.kind === 'managed') return existing(spec, reading.observation, signal);
      const record: DeploymentRecord = requestSpec(undefined, spec);
      const tags = recordTags(spec.name, record);
      const created = await createFleet(context, record.desired, spec, 'deploy', signal);
      try {
        await context.aws.call(
          'sageMaker',
          'CreateEndpoint',
          ({ module, client }, abortSignal) =>
            client.send(
              new module.CreateEndpointCommand({
                EndpointName: spec.name,
                EndpointConfigName: fleetNames(record.desired).endpointConfig,
                Tags: awsTags(tags),
              }),
              { abortSignal },
            ),
          signal,
        );
      } catch (error) {
        if (MlscaleError.hasCode(error, 'AlreadyExists')) {
          // Another process created it meanwhile: the same spec is the same deployment.
          const raced = await observeDeployment(context, spec.name, signal);
          if (raced.kind === 'managed') return existing(spec, raced.observation, signal);
          if (raced.kind === 'damaged') return rewriteDamaged(spec, raced.damaged, 'deploy', signal);
        }
        throw await refusedAfterCreating(context, error, created, 'deploy', signal);
      }
      const status = await statusOfReading(await observeDeployment(context, spec.name, signal));
      if (!status) throw notFound(spec.name);
      return status;
    },

    async doUpdate(input, { signal }) {
      const spec = parseSpec(deploymentSpecSchema, input, 'deployment spec');
      checkDeployable(spec);
      refuseUnknownSpec(spec);
      secrets.remember(spec);
      const reading = await observeDeployment(context, spec.name, signal);
      if (reading.kind === 'foreign') throw foreign(spec.name);
      if (reading.kind === 'damaged') return rewriteDamaged(spec, reading.damaged, 'update', signal);
      if (reading.kind === 'absent' || reading.observation.record.deleting) throw notFound(spec.name);
      const { observation } = reading;
      const { record, endpoint } = observation;
      const next = requestSpec(record, spec);
      if (next.desiredHash === record.desiredHash && !record.failure) return statusOf(context, observation);
      if (next.desired.serverless && next.desired.replicas !== record.desired.replicas) {
        throw new MlscaleError({
          code: 'Unsupported',
          provider: 'aws',
          message: `Deployment '${spec.name}' is serverless: SageMaker scales it by itself; change serverless.maxConcurrency with update() instead.`,
        });
      }
      recordTags(spec.name, next);
      if (endpoint.EndpointConfigName !== fleetNames(next.desired).endpointConfig) {
        refuseSteppedVariantChange(next.desired, endpoint);
        // A new fleet: its models and config exist before the record asks for them.
        const ready = await ensureFleet(
          context,
          secrets,
          next.desired,
          endpoint.EndpointConfigName,
          'update',
          signal,
        );
        if (ready !== 'ready') {
          throw new MlscaleError({
            code: 'InvalidSpec',
            provider: 'aws',
            message: `Cannot update '${spec.name}': ${ready.blocked}.`,
          });
        }
      }
      await saveRecord(context, observation, next, signal);
      return statusAfter(observation, spec.name, signal);
    },

    async doDelete(name, { signal }) {
      checkName(name);
      const reading = await observeDeployment(context, name, signal);
      if (reading.kind === 'foreign') throw foreign(name);
      if (reading.kind === 'absent') return (await removeLeftovers(context, name, signal)) > 0;
      if (reading.kind === 'damaged') {
        // A record that asks for deletion replaces the damaged one: reconcile then tears down as usual.
        const { damaged } = reading;
        if (damaged.endpoint.EndpointStatus !== 'Deleting') {
          const deletion = requestDeletion(requestSpec(undefined, unknownSpec(damaged)));
          await saveRecord(context, { arn: damaged.arn, tags: { ...damaged.tags } }, deletion, signal);
        }
        return true;
      }
      const { observation } = reading;
      if (!observation.record.deleting)
        await saveRecord(context, observation, requestDeletion(observation.record), signal);
      return true;
    },

    async doReconcile(name, { signal }) {
      checkName(name);
      let latest: DeploymentObservation | undefined;
      let damaged: DamagedDeployment | undefined;
      const status = await reconcileStep(
        {
          provider: 'aws',
          name,
          observe: async (stepSignal) => {
            const reading = await observeDeployment(context, name, stepSignal);
            if (reading.kind === 'foreign') throw foreign(name);
            // Nothing to converge to: the status says what rewrites the record.
            if (reading.kind === 'damaged') damaged = reading.damaged;
            if (reading.kind !== 'managed') return undefined;
            latest = reading.observation;
            return { record: latest.record, observation: latest };
          },
          advance: (record, observation, stepSignal) =>
            advanceDeployment(planner, record, observation, stepSignal),
          save: (record, observation, stepSignal) => saveRecord(context, observation, record, stepSignal),
          status: async (stepSignal) => {
            if (latest && !latest.changed) return statusOf(context, latest);
            const reading = await observeDeployment(context, name, stepSignal);
            return reading.kind === 'managed' ? statusOf(context, reading.observation) : undefined;
          },
        },
        signal,
      );
      if (status) return status;
      if (damaged) return damagedStatus(context, damaged);
      // No endpoint (deleted, found gone before or after the step, or a first deploy that crashed
      // before CreateEndpoint): nothing of it may stay.
      await removeLeftovers(context, name, signal);
      return undefined;
    },

    async doGet(name, { signal }) {
      checkName(name);
      return statusOfReading(await observeDeployment(context, name, signal));
    },

    async *doList({ signal }) {
      const endpoints = context.aws.items(
        'sageMaker',
        'ListEndpoints',
        ({ module, client }, abortSignal) =>
          module.paginateListEndpoints(
            { client, stopOnSameToken: true, pageSize: 100 },
            { SortBy: 'Name', SortOrder: 'Ascending' },
            { abortSignal },
          ),
        (page) => ({ items: page.Endpoints, nextToken: page.NextToken }),
        signal,
      );
      for await (const summary of endpoints) {
        if (!summary.EndpointName) continue;
        const reading = await observeDeployment(context, summary.EndpointName, signal);
        if (reading.kind === 'managed' && !reading.observation.record.deleting)
          yield await statusOf(context, reading.observation);
        if (reading.kind === 'damaged' && reading.damaged.endpoint.EndpointStatus !== 'Deleting')
          yield await damagedStatus(context, reading.damaged);
      }
    },

    doPredict(name, request, { signal }) {
      checkName(name);
      return predict(context, name, request, signal);
    },
  };
}
