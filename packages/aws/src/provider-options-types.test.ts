import type { DeploymentSpecInput, TrainingJobSpecInput } from '@mlscale/core';
import { describe, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import type { deploymentAwsOptionsSchema, trainingAwsOptionsSchema } from './adapter/provider-options.js';
import './provider-options-types.js';

type Options<Spec extends { providerOptions?: unknown }> = NonNullable<Spec['providerOptions']>;

// Checked by `pnpm typecheck` (this file is in the compiled sources).
describe('providerOptions in the types, once @mlscale/aws is imported', () => {
  it('types the aws entry as sagemaker() validates it, and leaves the others open', () => {
    expectTypeOf<Options<DeploymentSpecInput>['aws']>().toEqualTypeOf<
      z.input<typeof deploymentAwsOptionsSchema> | undefined
    >();
    expectTypeOf<Options<TrainingJobSpecInput>['aws']>().toEqualTypeOf<
      z.input<typeof trainingAwsOptionsSchema> | undefined
    >();
    const typo: DeploymentSpecInput = {
      name: 'typed',
      model: { uri: 'model.onnx' },
      // @ts-expect-error a mistyped SageMaker option is a type error, not a runtime surprise
      providerOptions: { aws: { variantNme: 'primary' } },
    };
    expectTypeOf(typo).toExtend<DeploymentSpecInput>();
  });
});
