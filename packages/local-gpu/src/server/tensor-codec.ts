import type { TensorDatatype } from '@mlscale/core';
import { badRequest, type InferenceTensor } from '../deployments/inference-types.js';
import { type DatatypeInfo, datatypes, type NumericArray } from '../runtime/tensor-datatypes.js';

/** The datatype's run-time info, or a 400 naming what is supported. */
export function datatypeInfo(datatype: unknown, where: string): DatatypeInfo {
  const info = typeof datatype === 'string' ? datatypes.get(datatype) : undefined;
  if (!info) {
    throw badRequest(
      `${where}: unsupported datatype ${JSON.stringify(datatype)}: expected one of ${[...datatypes.keys()].join(', ')}`,
    );
  }
  return info;
}

/** A shape: non-negative integers; returns the element count. */
export function checkShape(shape: unknown, where: string): number {
  if (!Array.isArray(shape)) throw badRequest(`${where}: expected "shape" to be an array of integers`);
  let count = 1;
  for (const size of shape) {
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) {
      throw badRequest(`${where}: expected "shape" of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    count *= size;
  }
  if (count > 1 << 28) throw badRequest(`${where}: shape ${JSON.stringify(shape)} is too large`);
  return count;
}

/**
 * Copies JSON `data` (flat or nested, row-major) into a typed array of `count` elements, checking each
 * value: finite numbers for floats, integers in range for integer types, booleans (or 0/1) for BOOL.
 */
export function decodeJsonData(
  data: unknown,
  info: DatatypeInfo,
  count: number,
  where: string,
): NumericArray {
  if (!Array.isArray(data)) throw badRequest(`${where}: expected "data" to be an array`);
  const target = info.create(count);
  let index = 0;
  const fail = (value: unknown): never => {
    throw badRequest(
      `${where}: ${describeExpected(info)}, got ${typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value))} at element ${index}`,
    );
  };
  const visit = (values: unknown[]) => {
    for (let position = 0; position < values.length; position++) {
      const value = values[position];
      if (Array.isArray(value)) {
        visit(value);
        continue;
      }
      if (index >= count) {
        throw badRequest(`${where}: shape needs ${count} values, got more`);
      }
      if (info.floating) {
        if (typeof value !== 'number' || !Number.isFinite(value)) fail(value);
        target[index++] = value as number;
      } else if (info.datatype === 'BOOL') {
        if (value === true || value === 1) target[index++] = 1;
        else if (value === false || value === 0) target[index++] = 0;
        else fail(value);
      } else if (info.bigint) {
        if (typeof value !== 'number' || !Number.isSafeInteger(value)) fail(value);
        if (info.datatype === 'UINT64' && (value as number) < 0) fail(value);
        target[index++] = BigInt(value as number) as never;
      } else {
        if (typeof value !== 'number' || !Number.isInteger(value)) fail(value);
        const before = value as number;
        target[index] = before;
        if (target[index] !== before) fail(value);
        index++;
      }
    }
  };
  // The flat case, the common one, skips the recursion.
  visit(data);
  if (index !== count) throw badRequest(`${where}: shape needs ${count} values, got ${index}`);
  return target;
}

function describeExpected(info: DatatypeInfo): string {
  if (info.floating) return `expected finite numbers for ${info.datatype}`;
  if (info.datatype === 'BOOL') return 'expected booleans for BOOL';
  return `expected integers in the range of ${info.datatype}`;
}

/** Copies little-endian bytes into a new, aligned typed array (so it can be transferred to a replica). */
export function decodeBinaryData(
  bytes: Uint8Array,
  info: DatatypeInfo,
  count: number,
  where: string,
): NumericArray {
  if (bytes.length !== count * info.bytes) {
    throw badRequest(
      `${where}: binary_data_size is ${bytes.length} bytes, but shape and ${info.datatype} need ${count * info.bytes}`,
    );
  }
  const target = info.create(count);
  new Uint8Array(target.buffer, target.byteOffset, target.byteLength).set(bytes);
  if (info.floating) {
    for (let index = 0; index < target.length; index++) {
      if (!Number.isFinite(target[index] as number)) {
        throw badRequest(
          `${where}: expected finite numbers for ${info.datatype}, got ${target[index]} at element ${index}`,
        );
      }
    }
  }
  return target;
}

/** A tensor's data as JSON-ready values. */
export function jsonData(tensor: InferenceTensor): unknown[] {
  const data = tensor.data;
  if (tensor.datatype === 'BOOL') return Array.from(data as Uint8Array, (value) => value !== 0);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Array.from(data, Number);
  return Array.from(data as Float32Array);
}

/** A tensor's data as little-endian bytes (a view, no copy). */
export function binaryData(tensor: InferenceTensor): Uint8Array {
  return new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
}

/** Builds an input tensor once its data is decoded. */
export function tensor(
  name: string,
  datatype: TensorDatatype,
  shape: number[],
  data: NumericArray,
): InferenceTensor {
  return { name, datatype, shape, data };
}
