import { MlscaleError } from '@mlscale/core';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  encodeMlpModel,
  fixedShapeMlp,
  normalFloat32,
  readModelSignature,
  referenceMlp,
  referenceMlpLayers,
  seededRandom,
} from '../src/onnx/index.js';
import { mlpForward } from './mlp-forward.js';

describe('ONNX models written from TypeScript', () => {
  it('the reference MLP loads in onnxruntime and computes the same function as a plain forward pass', async () => {
    const session = await ort.InferenceSession.create(referenceMlp(7));
    try {
      expect(session.inputNames).toEqual(['input']);
      expect(session.outputNames).toEqual(['probabilities']);
      const input = normalFloat32(seededRandom(3), 4 * 784);
      const result = await session.run({ input: new ort.Tensor('float32', input, [4, 784]) });
      const output = result.probabilities!;
      expect(output.dims).toEqual([4, 10]);
      const expected = mlpForward(referenceMlpLayers(7), input, 4);
      for (let row = 0; row < 4; row++) {
        for (let column = 0; column < 10; column++) {
          expect(
            Math.abs((output.data as Float32Array)[row * 10 + column]! - expected[row]![column]!),
          ).toBeLessThan(1e-5);
        }
      }
    } finally {
      await session.release();
    }
  });

  it('the same seed gives the same bytes; another seed gives other weights', () => {
    expect(Buffer.from(referenceMlp(7)).equals(Buffer.from(referenceMlp(7)))).toBe(true);
    expect(Buffer.from(referenceMlp(7)).equals(Buffer.from(referenceMlp(8)))).toBe(false);
  });

  it('reads signatures: dynamic batch as -1, fixed shapes as they are', () => {
    const reference = readModelSignature(referenceMlp(), 'reference');
    expect(reference.inputs).toEqual([{ name: 'input', datatype: 'FP32', shape: [-1, 784] }]);
    expect(reference.outputs).toEqual([{ name: 'probabilities', datatype: 'FP32', shape: [-1, 10] }]);
    expect(reference.batchable).toBe(true);
    expect(reference.opset).toBe(17);
    const fixed = readModelSignature(fixedShapeMlp(), 'fixed');
    expect(fixed.inputs[0]!.shape).toEqual([1, 4]);
    expect(fixed.batchable).toBe(false);
  });

  it('writes logits without softmax and custom tensor names', async () => {
    const bytes = encodeMlpModel({
      layers: [{ weights: Float32Array.from([1, 0, 0, 1]), bias: Float32Array.from([0.5, -0.5]) }],
      inputSize: 2,
      hiddenActivation: 'relu',
      output: 'none',
      inputName: 'x',
      outputName: 'y',
    });
    const session = await ort.InferenceSession.create(bytes);
    const result = await session.run({ x: new ort.Tensor('float32', Float32Array.from([2, 3]), [1, 2]) });
    expect(Array.from(result.y!.data as Float32Array)).toEqual([2.5, 2.5]);
    await session.release();
  });

  it('refuses bytes that are not ONNX, and weights of the wrong size, with InvalidSpec', () => {
    expect(() => readModelSignature(new TextEncoder().encode('not a model at all'), 'junk.onnx')).toThrow(
      /junk\.onnx is not a valid ONNX model/,
    );
    try {
      encodeMlpModel({
        layers: [{ weights: new Float32Array(5), bias: new Float32Array(2) }],
        inputSize: 2,
        hiddenActivation: 'relu',
        output: 'none',
      });
      expect.unreachable();
    } catch (error) {
      expect(MlscaleError.hasCode(error, 'InvalidSpec')).toBe(true);
      expect((error as Error).message).toMatch(/layers\[0\]\.weights: expected 2 × 2 = 4 values, got 5/);
    }
  });
});
