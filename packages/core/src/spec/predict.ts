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

/** A named tensor: row-major `data` whose length is the product of `shape`. */
export const tensorSchema = z
  .object({
    name: z.string().min(1),
    datatype: tensorDatatypeSchema,
    shape: z.array(z.number().int().min(0)),
    data: z.array(z.union([z.number(), z.boolean(), z.string()])),
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

/** An inference response. */
export interface PredictResponse {
  id?: string;
  modelName: string;
  modelVersion?: string;
  outputs: Tensor[];
}
