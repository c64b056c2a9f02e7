import { z } from 'zod';

/** Tensor element types of the Open Inference Protocol (KServe V2). */
export const tensorDatatypeSchema = z.enum([
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
]);
export type TensorDatatype = z.infer<typeof tensorDatatypeSchema>;

/** Typed arrays a caller may hold tensor data in (`Float32Array` and the rest). */
const typedArraySchema = z.union([
  z.instanceof(Float32Array),
  z.instanceof(Float64Array),
  z.instanceof(Int8Array),
  z.instanceof(Int16Array),
  z.instanceof(Int32Array),
  z.instanceof(Uint8Array),
  z.instanceof(Uint16Array),
  z.instanceof(Uint32Array),
  z.instanceof(BigInt64Array),
  z.instanceof(BigUint64Array),
]);

/**
 * Tensor values, row-major: an array of numbers, booleans or strings, or a typed array, which is read
 * into numbers (64-bit integers exactly up to 2^53), so every backend gets the same plain array.
 */
const tensorDataSchema = z.union([
  z.array(z.union([z.number(), z.boolean(), z.string()])),
  typedArraySchema.transform((values) => Array.from(values as ArrayLike<number | bigint>, Number)),
]);

/** A named tensor: row-major `data` whose length is the product of `shape`. */
export const tensorSchema = z
  .object({
    name: z.string().min(1),
    datatype: tensorDatatypeSchema,
    shape: z.array(z.number().int().min(0)),
    data: tensorDataSchema,
  })
  .superRefine((tensor, context) => {
    const expected = tensor.shape.reduce((product, size) => product * size, 1);
    if (expected !== tensor.data.length) {
      context.addIssue({
        code: 'custom',
        path: ['data'],
        message: `expected ${expected} values for shape [${tensor.shape.join(', ')}], got ${tensor.data.length}`,
      });
    }
  });
export type Tensor = z.infer<typeof tensorSchema>;

/** An inference request: the V2 protocol's, which every backend translates from. */
export const predictRequestSchema = z
  .object({
    id: z.string().optional(),
    inputs: z.array(tensorSchema).min(1, 'expected at least one input tensor'),
    /** Output names to return; all when omitted. */
    outputs: z.array(z.string()).optional(),
  })
  .strict();
export type PredictRequest = z.infer<typeof predictRequestSchema>;
/** What `predict` takes: a `PredictRequest`, with typed arrays allowed as tensor data. */
export type PredictRequestInput = z.input<typeof predictRequestSchema>;

/** An inference response. */
export interface PredictResponse {
  id?: string;
  modelName: string;
  modelVersion?: string;
  outputs: Tensor[];
}
