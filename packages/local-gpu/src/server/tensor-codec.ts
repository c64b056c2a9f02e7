import type { TensorDatatype } from '@mlscale/core';
import { badRequest, InferenceError, type InferenceTensor } from '../deployments/inference-types.js';
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

/** Most elements one tensor may hold (1 GiB of FP32), whatever the body could carry. */
const maximumElements = 1 << 28;

/**
 * A shape: non-negative integers; returns the element count. `maxElements` bounds it before anything is
 * allocated (a JSON body of n bytes holds fewer than n values), so a tiny request cannot ask for gigabytes.
 */
export function checkShape(shape: unknown, where: string, maxElements = maximumElements): number {
  if (!Array.isArray(shape)) throw badRequest(`${where}: expected "shape" to be an array of integers`);
  let count = 1;
  for (const size of shape) {
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) {
      throw badRequest(
        `${where}: expected "shape" of non-negative integers, got ${describeValue(size)} in it`,
      );
    }
    count *= size;
  }
  const limit = Math.min(maxElements, maximumElements);
  if (count > limit) {
    throw badRequest(
      `${where}: shape ${describeValue(shape)} needs ${count} values; ${limit < maximumElements ? `a body of this size holds at most ${limit}` : `at most ${maximumElements} are served`}`,
    );
  }
  return count;
}

/** A short, safe description of any JSON value for an error message (never a deep stringify). */
export function describeValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (Array.isArray(value)) {
    const shown = value.length <= 8 && value.every((item) => typeof item === 'number');
    return shown ? `[${value.join(', ')}]` : `an array of ${value.length}`;
  }
  return typeof value === 'object' ? 'an object' : typeof value;
}

/**
 * Copies JSON `data` (flat or nested, row-major) into a typed array of `count` elements, checking each
 * value: numbers finite once stored (1e39 is not an FP32) for floats, integers in range for integer
 * types, booleans (or 0/1) for BOOL. The walk is iterative and at most `maxDepth` arrays deep (the
 * shape's rank), so hostile nesting gets a 400, not a stack overflow.
 */
export function decodeJsonData(
  data: unknown,
  info: DatatypeInfo,
  count: number,
  where: string,
  maxDepth = Number.POSITIVE_INFINITY,
): NumericArray {
  if (!Array.isArray(data)) throw badRequest(`${where}: expected "data" to be an array`);
  const target = info.create(count);
  let index = 0;
  const fail = (value: unknown): never => {
    throw badRequest(`${where}: ${describeExpected(info)}, got ${describeValue(value)} at element ${index}`);
  };
  // Each open array and the position reached in it.
  const arrays: unknown[][] = [data];
  const positions: number[] = [0];
  while (arrays.length > 0) {
    const depth = arrays.length - 1;
    const values = arrays[depth]!;
    const position = positions[depth]!;
    if (position >= values.length) {
      arrays.pop();
      positions.pop();
      continue;
    }
    positions[depth] = position + 1;
    const value = values[position];
    if (Array.isArray(value)) {
      if (arrays.length >= maxDepth) {
        throw badRequest(`${where}: "data" is nested deeper than the shape's ${maxDepth} dimensions`);
      }
      arrays.push(value);
      positions.push(0);
      continue;
    }
    if (index >= count) throw badRequest(`${where}: shape needs ${count} values, got more`);
    if (info.floating) {
      if (typeof value !== 'number') fail(value);
      target[index] = value as number;
      if (!Number.isFinite(target[index] as number)) fail(value);
      index++;
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

/**
 * A tensor's data as JSON-ready values. JSON has no NaN or Infinity (they would print as `null`), so a
 * float output holding one is answered 422, saying the binary form carries it.
 */
export function jsonData(tensor: InferenceTensor): unknown[] {
  const data = tensor.data;
  if (tensor.datatype === 'BOOL') return Array.from(data as Uint8Array, (value) => value !== 0);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Array.from(data, Number);
  if (data instanceof Float32Array || data instanceof Float64Array) {
    for (let index = 0; index < data.length; index++) {
      if (!Number.isFinite(data[index]!)) {
        throw new InferenceError(
          422,
          `output '${tensor.name}' holds ${data[index]} at element ${index}, which JSON cannot carry; ask for it as binary data (parameters.binary_data), or check that the inputs are in the model's range`,
          'non_finite_output',
        );
      }
    }
  }
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
