import type { OperationState } from './calls.js';

/**
 * What an operation's metadata says about it: the RPC that started it (from the metadata's type) and
 * when it was created. Every Vertex AI operation metadata message (`DeployModelOperationMetadata`,
 * `UploadModelOperationMetadata`, `DeleteOperationMetadata`, ...) has `GenericOperationMetadata
 * generic_metadata = 1`, whose `create_time` is field 2, so one small protobuf walk reads them all.
 */
export interface OperationFacts {
  /** `DeployModel`, `UploadModel`, `Delete`, ... (`operation` when the type is not one of Vertex's). */
  kind: string;
  createdAt: Date | undefined;
}

export function operationFacts(operation: OperationState): OperationFacts {
  const metadata = (operation.metadata ?? {}) as { typeUrl?: unknown; type_url?: unknown; value?: unknown };
  const type = String(metadata.typeUrl ?? metadata.type_url ?? '');
  const match = /\.([A-Za-z]+)OperationMetadata$/.exec(type);
  const bytes = toBytes(metadata.value);
  return { kind: match?.[1] ?? 'operation', createdAt: bytes ? createTime(bytes) : undefined };
}

function toBytes(value: unknown): Uint8Array | undefined {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return Buffer.from(value, 'base64');
  return undefined;
}

/** `generic_metadata.create_time` of an operation metadata message, if it has one. */
function createTime(bytes: Uint8Array): Date | undefined {
  const generic = field(bytes, 1);
  const timestamp = generic ? field(generic, 2) : undefined;
  if (!timestamp) return undefined;
  let seconds = 0;
  let nanos = 0;
  walk(timestamp, (number, _wireType, value) => {
    if (typeof value !== 'number') return;
    if (number === 1) seconds = value;
    if (number === 2) nanos = value;
  });
  return new Date(seconds * 1000 + Math.floor(nanos / 1_000_000));
}

/** The bytes of the first length-delimited field `number` of a message. */
function field(bytes: Uint8Array, number: number): Uint8Array | undefined {
  let found: Uint8Array | undefined;
  walk(bytes, (fieldNumber, _wireType, value) => {
    if (!found && fieldNumber === number && value instanceof Uint8Array) found = value;
  });
  return found;
}

/** Calls `visit` with each field of a protobuf message: varints as numbers, length-delimited as bytes. */
function walk(
  bytes: Uint8Array,
  visit: (number: number, wireType: number, value: number | Uint8Array | undefined) => void,
): void {
  let offset = 0;
  const varint = (): number => {
    let result = 0;
    let scale = 1;
    for (;;) {
      if (offset >= bytes.length) throw new RangeError('truncated varint');
      const byte = bytes[offset++]!;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 128;
    }
  };
  try {
    while (offset < bytes.length) {
      const key = varint();
      const number = Math.floor(key / 8);
      const wireType = key % 8;
      if (wireType === 0) visit(number, wireType, varint());
      else if (wireType === 2) {
        const length = varint();
        visit(number, wireType, bytes.subarray(offset, offset + length));
        offset += length;
      } else if (wireType === 1) offset += 8;
      else if (wireType === 5) offset += 4;
      else return;
    }
  } catch {
    // A damaged message: what was read so far stands.
  }
}
