import type { TensorDatatype } from '@mlscale/core';

/** A typed array the server builds tensors from. */
export type NumericArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/** How one V2 datatype maps to onnxruntime and to memory. */
export interface DatatypeInfo {
  /** The V2 name (`FP32`). */
  datatype: TensorDatatype;
  /** onnxruntime's tensor type name (`float32`). */
  ortType: string;
  /** Bytes per element. */
  bytes: number;
  /** Floating point: non-finite values are refused. */
  floating: boolean;
  /** 64-bit integers: held as bigint. */
  bigint: boolean;
  /** Allocates a typed array of `length` elements (or over `buffer`). */
  create(length: number): NumericArray;
  view(buffer: ArrayBufferLike, byteOffset: number, length: number): NumericArray;
}

function info(
  datatype: TensorDatatype,
  ortType: string,
  bytes: number,
  Constructor: {
    new (length: number): NumericArray;
    new (buffer: ArrayBufferLike, byteOffset: number, length: number): NumericArray;
  },
  floating = false,
): DatatypeInfo {
  return {
    datatype,
    ortType,
    bytes,
    floating,
    bigint: datatype === 'INT64' || datatype === 'UINT64',
    create: (length) => new Constructor(length),
    view: (buffer, byteOffset, length) => new Constructor(buffer, byteOffset, length),
  };
}

/** The V2 datatypes the server can run (FP16 and BYTES are not supported yet). */
export const datatypes: ReadonlyMap<string, DatatypeInfo> = new Map(
  [
    info('FP32', 'float32', 4, Float32Array, true),
    info('FP64', 'float64', 8, Float64Array, true),
    info('INT8', 'int8', 1, Int8Array),
    info('UINT8', 'uint8', 1, Uint8Array),
    info('INT16', 'int16', 2, Int16Array),
    info('UINT16', 'uint16', 2, Uint16Array),
    info('INT32', 'int32', 4, Int32Array),
    info('UINT32', 'uint32', 4, Uint32Array),
    info('INT64', 'int64', 8, BigInt64Array),
    info('UINT64', 'uint64', 8, BigUint64Array),
    info('BOOL', 'bool', 1, Uint8Array),
  ].map((entry) => [entry.datatype, entry]),
);

/** onnxruntime tensor type → V2 datatype. */
export const datatypeByOrtType: ReadonlyMap<string, DatatypeInfo> = new Map(
  [...datatypes.values()].map((entry) => [entry.ortType, entry]),
);
