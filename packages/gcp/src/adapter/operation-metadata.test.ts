import { describe, expect, it } from 'vitest';
import { loadProtos } from '../emulator/protos.js';
import { operationFacts } from './operation-metadata.js';

describe('what an operation metadata says', () => {
  it('reads the RPC and generic_metadata.create_time of every Vertex metadata type', async () => {
    const protos = await loadProtos();
    const created = new Date('2026-03-04T05:06:07.890Z');
    const genericMetadata = {
      createTime: { seconds: String(Math.floor(created.getTime() / 1000)), nanos: 890_000_000 },
    };
    for (const [type, kind] of [
      ['google.cloud.aiplatform.v1.DeployModelOperationMetadata', 'DeployModel'],
      ['google.cloud.aiplatform.v1.UploadModelOperationMetadata', 'UploadModel'],
      ['google.cloud.aiplatform.v1.DeleteOperationMetadata', 'Delete'],
    ] as const) {
      const metadata = protos.packAny(type, { genericMetadata });
      expect(operationFacts({ metadata: { typeUrl: metadata.type_url, value: metadata.value } })).toEqual({
        kind,
        createdAt: created,
      });
    }
    expect(operationFacts({ metadata: { value: Buffer.from([0xff]) } })).toEqual({
      kind: 'operation',
      createdAt: undefined,
    });
  });
});
