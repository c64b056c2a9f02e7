import { z } from 'zod';
import { tensorDatatypeSchema } from '../spec/predict.js';

/** One input or output of a model: its name, element type and shape (-1 for a dynamic dimension). */
export const tensorSignatureSchema = z
  .object({
    name: z.string().min(1),
    datatype: tensorDatatypeSchema,
    /** -1 marks a dynamic dimension (the batch, a sequence length). */
    shape: z.array(z.number().int().min(-1)),
  })
  .strict();
export type TensorSignature = z.infer<typeof tensorSignatureSchema>;

/** What a model takes and gives: what callers depend on. */
export const modelSignatureSchema = z
  .object({
    inputs: z.array(tensorSignatureSchema).min(1),
    outputs: z.array(tensorSignatureSchema).min(1),
  })
  .strict();
export type ModelSignature = z.infer<typeof modelSignatureSchema>;
