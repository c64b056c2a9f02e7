import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { MlscaleError } from '../errors.js';
import { compareSignatures } from './compare-signatures.js';
import type { ModelSignature } from './model-signature.js';
import { readOnnxSignature } from './read-onnx-signature.js';

const serving: ModelSignature = {
  inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 784] }],
  outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 10] }],
};
const withInput = (input: Partial<ModelSignature['inputs'][number]>): ModelSignature => ({
  ...serving,
  inputs: [{ ...serving.inputs[0]!, ...input }],
});
const withOutput = (output: Partial<ModelSignature['outputs'][number]>): ModelSignature => ({
  ...serving,
  outputs: [{ ...serving.outputs[0]!, ...output }],
});

describe('compareSignatures', () => {
  it('finds nothing for a drop-in replacement: the same, a dimension made dynamic, an output added', () => {
    expect(compareSignatures(serving, serving)).toEqual([]);
    expect(compareSignatures(serving, withInput({ shape: [-1, -1] }))).toEqual([]);
    expect(
      compareSignatures(serving, {
        ...serving,
        outputs: [...serving.outputs, { name: 'embedding', datatype: 'FP32', shape: [-1, 64] }],
      }),
    ).toEqual([]);
  });

  it.each([
    [
      'an input shape',
      withInput({ shape: [-1, 100] }),
      "input 'input'",
      /takes \[\?, 100\], was \[\?, 784\]/,
    ],
    [
      'a fixed batch where it was dynamic',
      withInput({ shape: [1, 784] }),
      "input 'input'",
      /takes \[1, 784\]/,
    ],
    ['an input name', withInput({ name: 'pixels' }), "input 'input'", /is gone/],
    ['an input datatype', withInput({ datatype: 'FP64' }), "input 'input'", /is FP64, was FP32/],
    [
      'an output shape',
      withOutput({ shape: [-1, 5] }),
      "output 'probabilities'",
      /has shape \[\?, 5\], was \[\?, 10\]/,
    ],
    ['an output name', withOutput({ name: 'scores' }), "output 'probabilities'", /is gone \(or renamed\)/],
    ['an output datatype', withOutput({ datatype: 'FP16' }), "output 'probabilities'", /is FP16, was FP32/],
  ])('names %s that would break callers', (_kind, next, tensor, message) => {
    const differences = compareSignatures(serving, next);
    expect(differences.find((difference) => difference.tensor === tensor)?.message).toMatch(message);
  });

  it('counts a new input as breaking: requests today do not send it', () => {
    const next = {
      ...serving,
      inputs: [...serving.inputs, { name: 'mask', datatype: 'BOOL' as const, shape: [-1] }],
    };
    expect(compareSignatures(serving, next)).toEqual([
      { tensor: "input 'mask'", message: expect.stringMatching(/is new/) },
    ]);
  });
});

describe('readOnnxSignature', () => {
  it('reads the inputs and outputs of an ONNX graph, initializers left out, dynamic dimensions as -1', () => {
    const { onnx } = onnxProto;
    const valueInfo = (name: string, dims: (number | string)[]) =>
      onnx.ValueInfoProto.create({
        name,
        type: {
          tensorType: {
            elemType: 1,
            shape: {
              dim: dims.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim })),
            },
          },
        },
      });
    const bytes = onnx.ModelProto.encode(
      onnx.ModelProto.create({
        irVersion: 8,
        producerName: 'test',
        opsetImport: [{ domain: '', version: 17 }],
        graph: {
          name: 'g',
          node: [{ opType: 'MatMul', input: ['input', 'weights'], output: ['probabilities'] }],
          initializer: [{ name: 'weights', dataType: 1, dims: [784, 10] }],
          input: [valueInfo('input', ['batch', 784]), valueInfo('weights', [784, 10])],
          output: [valueInfo('probabilities', ['batch', 10])],
        },
      }),
    ).finish();
    expect(readOnnxSignature(bytes, 'model.onnx')).toEqual({ ...serving, opset: 17, producer: 'test' });
    const refused = (() => {
      try {
        readOnnxSignature(new TextEncoder().encode('not a model'), 'notes.txt');
      } catch (error) {
        return error;
      }
    })();
    expect(MlscaleError.hasCode(refused, 'InvalidSpec')).toBe(true);
    expect((refused as Error).message).toContain('notes.txt is not a valid ONNX model');
  });
});
