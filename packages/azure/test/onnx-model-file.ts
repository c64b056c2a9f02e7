import { writeFileSync } from 'node:fs';

/** One FP32 tensor of a test model: its name and shape (`-1` for a dynamic dimension). */
export interface TestTensor {
  name: string;
  shape: number[];
}

/** What a test ONNX model declares; `producer` makes two models of one signature differ in bytes. */
export interface TestOnnxModel {
  inputs: TestTensor[];
  outputs: TestTensor[];
  producer?: string;
}

/** A protobuf varint. */
function varint(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return bytes;
}

/** A varint field (wire type 0). */
function numberField(field: number, value: number): number[] {
  return [...varint(field << 3), ...varint(value)];
}

/** A length-delimited field (wire type 2): a string or an embedded message. */
function bytesField(field: number, value: string | number[]): number[] {
  const bytes = typeof value === 'string' ? [...Buffer.from(value, 'utf8')] : value;
  return [...varint((field << 3) | 2), ...varint(bytes.length), ...bytes];
}

/** ValueInfoProto { name = 1, type = 2 { tensor_type = 1 { elem_type = 1 (FP32), shape = 2 } } }. */
function valueInfo(tensor: TestTensor): number[] {
  // TensorShapeProto.dim (1): dim_value (1), or dim_param (2) for a dynamic dimension.
  const dims = tensor.shape.flatMap((size) =>
    bytesField(1, size > 0 ? numberField(1, size) : bytesField(2, 'N')),
  );
  const tensorType = [...numberField(1, 1), ...bytesField(2, dims)];
  return [...bytesField(1, tensor.name), ...bytesField(2, bytesField(1, tensorType))];
}

/**
 * The bytes of a real ONNX ModelProto (ir_version 8, opset 17, one Identity node from the first input
 * to the first output), encoded by field number so the tests need no ONNX toolchain.
 */
export function onnxModelBytes(model: TestOnnxModel): Uint8Array {
  const node = [
    ...bytesField(1, model.inputs[0]!.name),
    ...bytesField(2, model.outputs[0]!.name),
    ...bytesField(4, 'Identity'),
  ];
  const graph = [
    ...bytesField(1, node),
    ...bytesField(2, 'test'),
    ...model.inputs.flatMap((input) => bytesField(11, valueInfo(input))),
    ...model.outputs.flatMap((output) => bytesField(12, valueInfo(output))),
  ];
  return Uint8Array.from([
    ...numberField(1, 8),
    ...bytesField(2, model.producer ?? 'mlscale-test'),
    ...bytesField(7, graph),
    ...bytesField(8, numberField(2, 17)),
  ]);
}

/** Writes a test ONNX model to `path`. */
export function writeOnnxModel(path: string, model: TestOnnxModel): void {
  writeFileSync(path, onnxModelBytes(model));
}
