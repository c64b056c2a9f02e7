import type { PredictRequest, Tensor, TensorDatatype } from '@mlscale/core';
import { invalidSpec } from './errors.js';

/**
 * V2 tensors as Vertex `instances`: the first dimension is the batch. One input gives one instance per
 * row (a nested list, or a scalar for a rank-1 tensor); several inputs give objects keyed by input
 * name, which must share the batch size.
 */
export function toInstances(request: PredictRequest): unknown[] {
  const rows = request.inputs.map((tensor, index) => ({
    name: tensor.name,
    rows: splitRows(tensor, `inputs[${index}]`),
  }));
  if (rows.length === 1) return rows[0]!.rows;
  const batch = rows[0]!.rows.length;
  for (const [index, input] of rows.entries()) {
    if (input.rows.length !== batch) {
      throw invalidSpec(
        `inputs[${index}].shape`,
        `expected the same first (batch) dimension as inputs[0] (${batch}), got ${input.rows.length}`,
      );
    }
  }
  return Array.from({ length: batch }, (_, row) =>
    Object.fromEntries(rows.map((input) => [input.name, input.rows[row]])),
  );
}

function splitRows(tensor: Tensor, field: string): unknown[] {
  if (tensor.shape.length === 0)
    throw invalidSpec(`${field}.shape`, 'expected at least one dimension (the batch)');
  const [batch, ...inner] = tensor.shape;
  const rowSize = inner.reduce((product, size) => product * size, 1);
  return Array.from({ length: batch! }, (_, row) =>
    nest(tensor.data.slice(row * rowSize, (row + 1) * rowSize), inner),
  );
}

function nest(data: unknown[], shape: number[]): unknown {
  if (shape.length === 0) return data[0];
  const [first, ...rest] = shape;
  const size = rest.reduce((product, dimension) => product * dimension, 1);
  return Array.from({ length: first! }, (_, index) =>
    nest(data.slice(index * size, (index + 1) * size), rest),
  );
}

/**
 * Vertex `predictions` as V2 tensors: numbers or uniform nested lists become one tensor named
 * `predictions` of shape [batch, ...]; objects become one tensor per key.
 */
export function fromPredictions(predictions: unknown[], outputs: string[] | undefined): Tensor[] {
  if (predictions.length > 0 && predictions.every((item) => isPlainObject(item))) {
    const keys = [...new Set(predictions.flatMap((item) => Object.keys(item as object)))];
    const tensors = keys.map((key) =>
      toTensor(
        key,
        predictions.map((item) => (item as Record<string, unknown>)[key]),
      ),
    );
    return outputs ? tensors.filter((tensor) => outputs.includes(tensor.name)) : tensors;
  }
  const name = outputs?.length === 1 ? outputs[0]! : 'predictions';
  return [toTensor(name, predictions)];
}

function toTensor(name: string, rows: unknown[]): Tensor {
  const shape = [rows.length, ...shapeOf(rows[0])];
  const data = rows.flatMap((row) => flatten(row));
  const expected = shape.reduce((product, size) => product * size, 1);
  if (data.length !== expected) {
    // Ragged predictions: keep each row as a JSON string rather than invent a shape.
    return { name, datatype: 'BYTES', shape: [rows.length], data: rows.map((row) => JSON.stringify(row)) };
  }
  const datatype = datatypeOf(data);
  const values =
    datatype === 'BYTES'
      ? data.map((value) => (typeof value === 'string' ? value : JSON.stringify(value)))
      : data;
  return { name, datatype, shape, data: values as Tensor['data'] };
}

function shapeOf(value: unknown): number[] {
  return Array.isArray(value) ? [value.length, ...shapeOf(value[0])] : [];
}

function flatten(value: unknown): unknown[] {
  return Array.isArray(value) ? value.flatMap(flatten) : [value];
}

function datatypeOf(data: unknown[]): TensorDatatype {
  if (data.every((value) => typeof value === 'number')) return 'FP32';
  if (data.every((value) => typeof value === 'boolean')) return 'BOOL';
  return 'BYTES';
}

function isPlainObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
