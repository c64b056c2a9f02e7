import { writeFile } from 'node:fs/promises';
import protobuf from 'protobufjs';

/** One tensor of a test model: its name and shape (`-1` for a dynamic dimension), always FP32. */
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

const fp32 = 1;

/** A ValueInfoProto (name = 1, type = 2) of an FP32 tensor: TypeProto.tensor_type (1) → elem_type (1), shape (2). */
function valueInfo(writer: protobuf.Writer, field: number, tensor: TestTensor): void {
  const dims = protobuf.Writer.create();
  for (const size of tensor.shape) {
    // TensorShapeProto.dim (1): dim_value (1) or, when dynamic, dim_param (2).
    const dim = protobuf.Writer.create();
    if (size > 0) dim.uint32(8).int64(size);
    else dim.uint32(18).string('N');
    dims.uint32(10).bytes(dim.finish());
  }
  const tensorType = protobuf.Writer.create().uint32(8).int32(fp32).uint32(18).bytes(dims.finish()).finish();
  const type = protobuf.Writer.create().uint32(10).bytes(tensorType).finish();
  const info = protobuf.Writer.create().uint32(10).string(tensor.name).uint32(18).bytes(type).finish();
  writer.uint32((field << 3) | 2).bytes(info);
}

/**
 * The bytes of a real ONNX ModelProto (ir_version 8, opset 17, one Softmax node from the first input to
 * the first output), encoded by field number so tests need no ONNX toolchain.
 */
export function onnxModelBytes(model: TestOnnxModel): Uint8Array {
  const node = protobuf.Writer.create()
    .uint32(10)
    .string(model.inputs[0]!.name)
    .uint32(18)
    .string(model.outputs[0]!.name)
    .uint32(34)
    .string('Softmax')
    .finish();
  const graph = protobuf.Writer.create().uint32(10).bytes(node).uint32(18).string('test');
  for (const input of model.inputs) valueInfo(graph, 11, input);
  for (const output of model.outputs) valueInfo(graph, 12, output);
  const opset = protobuf.Writer.create().uint32(16).int64(17).finish();
  return protobuf.Writer.create()
    .uint32(8)
    .int64(8)
    .uint32(18)
    .string(model.producer ?? 'mlscale-test')
    .uint32(58)
    .bytes(graph.finish())
    .uint32(66)
    .bytes(opset)
    .finish();
}

/** Writes a test ONNX model to `path`. */
export async function writeOnnxModel(path: string, model: TestOnnxModel): Promise<void> {
  await writeFile(path, onnxModelBytes(model));
}
