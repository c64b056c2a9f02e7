import type { DescribeEndpointCommandOutput } from '@aws-sdk/client-sagemaker';
import type { DeploymentRecord } from '@mlscale/core/provider-utils';
import type { AdapterContext } from './adapter-context.js';
import { readScaling, type VariantScaling } from './endpoint-autoscaling.js';
import { type RecordedEndpoint, readRecordTags } from './endpoint-record.js';
import { tagRecord } from './resource-tags.js';

/** One deployment as read from AWS: the endpoint, its tags and record, and its autoscaling. */
export interface DeploymentObservation extends RecordedEndpoint {
  name: string;
  record: DeploymentRecord;
  endpoint: DescribeEndpointCommandOutput;
  /** Each variant's scalable target and policy (empty while the endpoint is Creating or Deleting). */
  scaling: VariantScaling[];
  /**
   * Set by a step that changed the endpoint or its autoscaling (not only the record): what was read is
   * then out of date, and the status after the step is read again.
   */
  changed: boolean;
}

/**
 * An endpoint tagged `mlscale:deployment=NAME` whose tags hold no record that decodes (chunks of two
 * records mixed by an earlier version's concurrent saves, tags edited by hand). It is still the
 * deployment's: it reads as Failed, a deploy or update with the whole spec writes a new record, and
 * delete removes it.
 */
export interface DamagedDeployment {
  name: string;
  endpoint: DescribeEndpointCommandOutput;
  arn: string;
  tags: Record<string, string>;
  /** Why no record decodes. */
  reason: string;
}

/**
 * What a name stands for at SageMaker: nothing, an endpoint mlscale did not make, a deployment, or a
 * deployment whose record is damaged.
 */
export type EndpointReading =
  | { kind: 'absent' }
  | { kind: 'foreign'; endpoint: DescribeEndpointCommandOutput }
  | { kind: 'managed'; observation: DeploymentObservation }
  | { kind: 'damaged'; damaged: DamagedDeployment };

/** Endpoint states in which Application Auto Scaling can hold nothing for the endpoint. */
const unscaledStates = new Set(['Creating', 'Deleting']);

export function describeEndpoint(context: AdapterContext, name: string, signal: AbortSignal | undefined) {
  return context.aws.find(
    'sageMaker',
    'DescribeEndpoint',
    ({ module, client }, abortSignal) =>
      client.send(new module.DescribeEndpointCommand({ EndpointName: name }), { abortSignal }),
    signal,
  );
}

/** All tags of a SageMaker resource (ListTags, paged by the SDK's paginator). */
export async function readTags(
  context: AdapterContext,
  arn: string,
  signal: AbortSignal | undefined,
): Promise<Record<string, string>> {
  const tags: { Key?: string; Value?: string }[] = [];
  const pages = context.aws.items(
    'sageMaker',
    'ListTags',
    ({ module, client }, abortSignal) =>
      module.paginateListTags(
        { client, stopOnSameToken: true, pageSize: 100 },
        { ResourceArn: arn },
        { abortSignal },
      ),
    (page) => ({ items: page.Tags, nextToken: page.NextToken }),
    signal,
  );
  for await (const tag of pages) tags.push(tag);
  return tagRecord(tags);
}

/**
 * Reads deployment `name`: DescribeEndpoint, ListTags, and (once the endpoint can have any) its
 * variants' autoscaling. Only reads. An endpoint is foreign only when no `mlscale:deployment` tag
 * names it: one that does, with a record that does not decode, is damaged, never foreign (which would
 * lock delete, update and reconcile out of it for good).
 */
export async function observeDeployment(
  context: AdapterContext,
  name: string,
  signal: AbortSignal | undefined,
): Promise<EndpointReading> {
  const endpoint = await describeEndpoint(context, name, signal);
  if (!endpoint?.EndpointArn) return { kind: 'absent' };
  const tags = await readTags(context, endpoint.EndpointArn, signal);
  const reading = readRecordTags(name, tags, endpoint.LastModifiedTime);
  if (reading.kind === 'damaged') {
    return {
      kind: 'damaged',
      damaged: { name, endpoint, arn: endpoint.EndpointArn, tags, reason: reading.reason },
    };
  }
  if (reading.kind === 'none') {
    // An endpoint that finished deleting between the two reads has lost its tags with it.
    return (await describeEndpoint(context, name, signal))
      ? { kind: 'foreign', endpoint }
      : { kind: 'absent' };
  }
  const { record } = reading;
  const variants = (endpoint.ProductionVariants ?? []).map((variant) => variant.VariantName ?? '');
  const scaling = unscaledStates.has(endpoint.EndpointStatus ?? '')
    ? []
    : await readScaling(context, name, variants.filter(Boolean), signal);
  return {
    kind: 'managed',
    observation: { name, endpoint, arn: endpoint.EndpointArn, tags, record, scaling, changed: false },
  };
}
