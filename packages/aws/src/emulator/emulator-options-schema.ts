import { parseSpec } from '@mlscale/core';
import { z } from 'zod';
import type { AwsEmulatorOptions, FaultSpec } from './emulator-options.js';

const milliseconds = z.number().min(0, 'expected milliseconds, 0 or more').max(3_600_000);
const operation = z
  .string()
  .regex(/^(\*|[A-Z][A-Za-z0-9]+)$/, 'expected an API operation name (CreateEndpoint, ...) or *');
const count = z.number().int('expected a whole number').min(1);

export const faultSpecSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('throttle'), operation, count }).strict(),
  z
    .object({
      kind: z.literal('error'),
      operation,
      count,
      status: z.number().int().min(400).max(599).optional(),
      type: z
        .string()
        .regex(/^[A-Za-z][A-Za-z0-9.#]*$/, 'expected an error name such as AccessDeniedException')
        .optional(),
      message: z.string().optional(),
    })
    .strict(),
  z.object({ kind: z.literal('accessDenied'), operation, count, message: z.string().optional() }).strict(),
  z.object({ kind: z.literal('latency'), operation, ms: milliseconds, count: count.optional() }).strict(),
  z
    .object({
      kind: z.literal('failEndpoint'),
      endpointName: z.string().min(1),
      reason: z.string().optional(),
    })
    .strict(),
  z
    .object({ kind: z.literal('interruptSpot'), jobName: z.string().min(1), count: count.optional() })
    .strict(),
]);

const optionsSchema = z
  .object({
    port: z.number().int().min(0).max(65_535).optional(),
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'expected an AWS region such as us-east-1')
      .optional(),
    accountId: z
      .string()
      .regex(/^\d{12}$/, 'expected a 12-digit account id')
      .optional(),
    delays: z
      .object({
        endpointCreateMs: milliseconds.optional(),
        endpointUpdateMs: milliseconds.optional(),
        endpointDeleteMs: milliseconds.optional(),
        trainingStepMs: milliseconds.optional(),
        autoscalingEvaluationMs: milliseconds.optional(),
      })
      .strict()
      .optional(),
    faults: z.array(faultSpecSchema).optional(),
    badImages: z.array(z.string().min(1)).optional(),
    predictor: z
      .custom<NonNullable<AwsEmulatorOptions['predictor']>>((value) => typeof value === 'function', {
        message: 'expected a function (context) => Promise<{ body, statusCode?, contentType? }>',
      })
      .optional(),
  })
  .strict();

/** Validates emulator options, throwing `InvalidSpec` naming each bad field. */
export function parseEmulatorOptions(options: AwsEmulatorOptions): AwsEmulatorOptions {
  return parseSpec(optionsSchema, options, 'startAwsEmulator() options') as AwsEmulatorOptions;
}

/** Validates a fault before it is injected. */
export function parseFault(fault: FaultSpec): FaultSpec {
  return parseSpec(faultSpecSchema, fault, 'emulator fault') as FaultSpec;
}
