import { describe, expect, it } from 'vitest';
import { isSealedValue } from '../secrets/seal-secrets.js';
import { type DeploymentSpec, deploymentSpecSchema } from '../spec/deployment.js';
import {
  abandonRequest,
  decodeDeploymentRecord,
  deploymentRecordFromJson,
  deploymentRecordToJson,
  encodeDeploymentRecord,
  markConverged,
  markStarted,
  recordFromTags,
  recordPhase,
  recordToTags,
  requestDeletion,
  requestSpec,
  rolloutStarted,
  staleRecordTagKeys,
} from './deployment-record.js';

const spec = (extra: Record<string, unknown> = {}): DeploymentSpec =>
  deploymentSpecSchema.parse({ name: 'digits', model: { uri: 's3://models/v1.tar.gz' }, ...extra });

describe('deployment record', () => {
  it('walks creating → converged → converging → converged, keeping the serving spec until the new one converges', () => {
    const created = requestSpec(undefined, spec());
    expect(recordPhase(created)).toBe('creating');
    const converged = markConverged(created);
    expect(recordPhase(converged)).toBe('converged');
    expect(converged.servingHash).toBe(created.desiredHash);

    const updating = requestSpec(converged, spec({ replicas: 3 }));
    expect(recordPhase(updating)).toBe('converging');
    expect(updating.servingHash).toBe(created.desiredHash);
    expect(updating.desiredHash).not.toBe(created.desiredHash);
    expect(rolloutStarted(updating)).toBe(false);
    expect(rolloutStarted(markStarted(updating))).toBe(true);

    const done = markConverged(markStarted(updating));
    expect(recordPhase(done)).toBe('converged');
    expect(done.started).toBeUndefined();
    expect(recordPhase(requestDeletion(done))).toBe('deleting');
  });

  it('goes back to the serving spec when a change is refused, keeping why; a first deployment keeps its spec', () => {
    const serving = markConverged(requestSpec(undefined, spec()));
    const refused = abandonRequest(markStarted(requestSpec(serving, spec({ replicas: 4 }))), 'AccessDenied');
    expect(refused.desiredHash).toBe(serving.desiredHash);
    expect(recordPhase(refused)).toBe('converged');
    expect(refused.failure?.message).toBe('AccessDenied');
    expect(refused.started).toBeUndefined();

    const first = abandonRequest(requestSpec(undefined, spec()), 'CreateEndpoint refused');
    expect(recordPhase(first)).toBe('creating');
    expect(first.failure?.message).toBe('CreateEndpoint refused');
    // Asking again for the same spec retries it: the failure is cleared, nothing else changes.
    const retried = requestSpec(first, spec());
    expect(retried.failure).toBeUndefined();
    expect(retried.desiredHash).toBe(first.desiredHash);
  });

  it('records secrets sealed, and a changed secret is a changed spec', () => {
    const one = requestSpec(undefined, spec({ environment: { API_TOKEN: 'sk-live-1', MODE: 'fast' } }));
    const two = requestSpec(one, spec({ environment: { API_TOKEN: 'sk-live-2', MODE: 'fast' } }));
    expect(isSealedValue(one.desired.environment?.API_TOKEN)).toBe(true);
    expect(one.desired.environment?.MODE).toBe('fast');
    expect(two.desiredHash).not.toBe(one.desiredHash);
    expect(encodeDeploymentRecord(two)).not.toContain('sk-live');
    // Sealed values sent back (a merged update from the record) are the same spec.
    expect(requestSpec(one, one.desired).desiredHash).toBe(one.desiredHash);
  });

  it('round-trips through text and chunked tags, and refuses what does not fit', () => {
    const record = requestDeletion(
      abandonRequest(requestSpec(markConverged(requestSpec(undefined, spec())), spec({ replicas: 2 })), 'no'),
    );
    expect(decodeDeploymentRecord(encodeDeploymentRecord(record))).toEqual(record);
    expect(deploymentRecordFromJson(JSON.parse(JSON.stringify(deploymentRecordToJson(record))))).toEqual({
      record,
    });
    expect(deploymentRecordFromJson({ v: 1, desired: { name: 'x' }, requestedAt: 'now' })).toHaveProperty(
      'problem',
    );
    const tags = recordToTags(record, { prefix: 'mlscale:record-', valueLength: 16, maxChunks: 200 });
    expect(Object.values(tags).every((value) => value.length <= 16)).toBe(true);
    expect(recordFromTags(tags, 'mlscale:record-')).toEqual(record);
    expect(() => recordToTags(record, { prefix: 'r-', valueLength: 16, maxChunks: 2 })).toThrow(
      /tags hold 32/,
    );
    const smaller = recordToTags(markConverged(requestSpec(undefined, spec())), {
      prefix: 'mlscale:record-',
      valueLength: 16,
      maxChunks: 200,
    });
    expect(staleRecordTagKeys({ ...tags, other: 'x' }, smaller, 'mlscale:record-')).toEqual(
      Object.keys(tags).filter((key) => !(key in smaller)),
    );
    expect(decodeDeploymentRecord('not a record')).toBeUndefined();
    expect(recordFromTags({ 'mlscale:record-0': 'damaged' }, 'mlscale:record-')).toBeUndefined();
  });
});
