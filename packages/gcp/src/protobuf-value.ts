/**
 * `google.protobuf.Value` as both gRPC stacks (google-gax and @grpc/proto-loader) represent it in
 * JavaScript: one of `nullValue`, `numberValue`, `stringValue`, `boolValue`, `structValue`, `listValue`.
 * Predict's `instances` and `predictions` travel in this form.
 */
export interface ProtobufValue {
  nullValue?: 'NULL_VALUE' | 0 | null;
  numberValue?: number | null;
  stringValue?: string | null;
  boolValue?: boolean | null;
  structValue?: { fields?: Record<string, ProtobufValue> | null } | null;
  listValue?: { values?: ProtobufValue[] | null } | null;
  /** Which field is set (present on decoded messages). */
  kind?: string;
}

/** A JSON value as a `google.protobuf.Value`. */
export function toProtobufValue(value: unknown): ProtobufValue {
  if (value === null || value === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof value === 'number') return { numberValue: value };
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map(toProtobufValue) } };
  if (typeof value === 'object') {
    const fields: Record<string, ProtobufValue> = {};
    for (const [key, item] of Object.entries(value)) fields[key] = toProtobufValue(item);
    return { structValue: { fields } };
  }
  throw new TypeError(`cannot encode a ${typeof value} as a protobuf Value`);
}

/** A `google.protobuf.Value` as a JSON value. */
export function fromProtobufValue(value: ProtobufValue | null | undefined): unknown {
  if (!value) return null;
  const kind = value.kind ?? presentKind(value);
  switch (kind) {
    case 'numberValue':
      return Number(value.numberValue);
    case 'stringValue':
      return value.stringValue ?? '';
    case 'boolValue':
      return Boolean(value.boolValue);
    case 'listValue':
      return (value.listValue?.values ?? []).map(fromProtobufValue);
    case 'structValue': {
      const result: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value.structValue?.fields ?? {})) {
        result[key] = fromProtobufValue(item);
      }
      return result;
    }
    default:
      return null;
  }
}

function presentKind(value: ProtobufValue): string | undefined {
  for (const key of ['numberValue', 'stringValue', 'boolValue', 'listValue', 'structValue'] as const) {
    if (value[key] !== undefined && value[key] !== null) return key;
  }
  return undefined;
}
