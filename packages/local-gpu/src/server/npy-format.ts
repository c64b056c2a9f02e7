import type { TensorDatatype } from '@mlscale/core';
import { badRequest, type InferenceTensor } from '../deployments/inference-types.js';
import { datatypes, type NumericArray } from '../runtime/tensor-datatypes.js';

/*
 * NumPy's .npy format (numpy.lib.format): the magic "\x93NUMPY", a version byte pair, the header's
 * length (2 bytes little-endian in version 1, 4 in versions 2 and 3), then a Python dict literal such as
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 784), }` padded with spaces to a multiple of
 * 64 bytes and ending in a newline, then the array's bytes in C order.
 */

const magic = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

/** numpy `descr` (little-endian or byte-order free) → the V2 datatype holding it. */
const datatypeByDescr: Readonly<Record<string, TensorDatatype>> = {
  '<f4': 'FP32',
  '<f8': 'FP64',
  '|i1': 'INT8',
  '|u1': 'UINT8',
  '<i2': 'INT16',
  '<u2': 'UINT16',
  '<i4': 'INT32',
  '<u4': 'UINT32',
  '<i8': 'INT64',
  '<u8': 'UINT64',
  '|b1': 'BOOL',
};
const descrByDatatype = new Map(Object.entries(datatypeByDescr).map(([descr, type]) => [type, descr]));

/** An array read from .npy bytes: its shape, datatype and data (a new, aligned typed array). */
export interface NpyArray {
  shape: number[];
  datatype: TensorDatatype;
  data: NumericArray;
}

/** Reads .npy bytes; anything else (another magic, a big-endian or Fortran-ordered array) is a 400. */
export function parseNpy(bytes: Buffer): NpyArray {
  if (bytes.length < 10 || !bytes.subarray(0, 6).equals(magic)) {
    throw badRequest('application/x-npy body: expected NumPy .npy bytes (starting with \\x93NUMPY)');
  }
  const major = bytes[6]!;
  const lengthBytes = major === 1 ? 2 : 4;
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = 8 + lengthBytes;
  if (start + headerLength > bytes.length)
    throw badRequest('application/x-npy body: the header runs past the body');
  const header = bytes.subarray(start, start + headerLength).toString('latin1');
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw badRequest(
      `application/x-npy body: expected a header with descr, fortran_order and shape, got ${JSON.stringify(header.slice(0, 120))}`,
    );
  }
  const datatype = datatypeByDescr[descr === '=f4' ? '<f4' : descr === '=f8' ? '<f8' : descr];
  if (!datatype) {
    throw badRequest(
      `application/x-npy body: dtype ${descr} is not served; expected one of ${Object.keys(datatypeByDescr).join(', ')}`,
    );
  }
  if (fortran === 'True')
    throw badRequest('application/x-npy body: Fortran-ordered arrays are not served; send C order');
  const shape = shapeText
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map(Number);
  if (shape.some((size) => !Number.isInteger(size) || size < 0)) {
    throw badRequest(`application/x-npy body: the shape (${shapeText}) is not of non-negative integers`);
  }
  const info = datatypes.get(datatype)!;
  const count = shape.reduce((product, size) => product * size, 1);
  const payload = bytes.subarray(start + headerLength);
  if (payload.length !== count * info.bytes) {
    throw badRequest(
      `application/x-npy body: shape (${shape.join(', ')}) of ${descr} needs ${count * info.bytes} bytes, got ${payload.length}`,
    );
  }
  const data = info.create(count);
  new Uint8Array(data.buffer, data.byteOffset, data.byteLength).set(payload);
  return { shape, datatype, data };
}

/** A tensor as version 1.0 .npy bytes. */
export function encodeNpy(tensor: InferenceTensor): Buffer {
  const descr = descrByDatatype.get(tensor.datatype) ?? '<f4';
  const shape = tensor.shape.length === 1 ? `${tensor.shape[0]},` : tensor.shape.join(', ');
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape}), }`;
  // Magic (6) + version (2) + length (2) + header, padded with spaces to 64 bytes, newline last.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = `${header}${' '.repeat(total - 10 - header.length - 1)}\n`;
  const prefix = Buffer.alloc(10);
  magic.copy(prefix);
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  const data = tensor.data;
  return Buffer.concat([
    prefix,
    Buffer.from(header, 'latin1'),
    Buffer.from(data.buffer, data.byteOffset, data.byteLength),
  ]);
}
