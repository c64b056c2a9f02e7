import { MlscaleError, type TensorDatatype } from '@mlscale/core';
import onnxProto from 'onnx-proto';
import { datatypeByOnnxElementType } from '../runtime/tensor-datatypes.js';

const { onnx } = onnxProto;

/** One input or output as the V2 metadata route reports it. */
export interface TensorSignature {
  name: string;
  datatype: TensorDatatype;
  /** -1 marks a dynamic dimension. */
  shape: number[];
}

/** What a model takes and gives, read from its ONNX graph. */
export interface ModelSignature {
  inputs: TensorSignature[];
  outputs: TensorSignature[];
  /** Every input and output has a dynamic first dimension, so requests can be concatenated on it. */
  batchable: boolean;
  opset?: number;
  producer?: string;
}

/**
 * Reads a model's inputs and outputs from its ONNX bytes; throws `InvalidSpec` when the bytes are not an
 * ONNX model (a decode failure, or no graph, inputs or outputs), naming `source`.
 */
export function readModelSignature(bytes: Uint8Array, source: string): ModelSignature {
  let model: ReturnType<typeof onnx.ModelProto.decode>;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw notOnnx(source, error instanceof Error ? error.message : String(error));
  }
  const graph = model.graph;
  const irVersion = Number(model.irVersion ?? 0);
  if (!graph || irVersion <= 0 || !graph.node?.length) {
    throw notOnnx(source, 'no ir_version or no graph with nodes');
  }
  const initialized = new Set((graph.initializer ?? []).map((tensor) => tensor.name));
  const describe = (value: onnxProto.onnx.IValueInfoProto, kind: string): TensorSignature => {
    const tensorType = value.type?.tensorType;
    const datatype = datatypeByOnnxElementType.get(tensorType?.elemType ?? 0);
    if (!value.name || !tensorType || !datatype) {
      throw notOnnx(source, `${kind} '${value.name ?? '?'}' is not a tensor of a known element type`);
    }
    const shape = (tensorType.shape?.dim ?? []).map((dim) => {
      const size = dim.dimValue === undefined || dim.dimValue === null ? 0 : Number(dim.dimValue);
      return size > 0 ? size : -1;
    });
    return { name: value.name, datatype, shape };
  };
  const inputs = (graph.input ?? [])
    .filter((value) => !initialized.has(value.name ?? ''))
    .map((value) => describe(value, 'input'));
  const outputs = (graph.output ?? []).map((value) => describe(value, 'output'));
  if (inputs.length === 0 || outputs.length === 0)
    throw notOnnx(source, 'the graph has no inputs or outputs');
  const batchable = [...inputs, ...outputs].every(
    (tensor) => tensor.shape.length > 0 && tensor.shape[0] === -1,
  );
  const opset = model.opsetImport?.find((entry) => !entry.domain)?.version;
  return {
    inputs,
    outputs,
    batchable,
    ...(opset === undefined || opset === null ? {} : { opset: Number(opset) }),
    ...(model.producerName ? { producer: model.producerName } : {}),
  };
}

function notOnnx(source: string, detail: string): MlscaleError {
  return new MlscaleError({
    code: 'InvalidSpec',
    message: `Model ${source} is not a valid ONNX model (${detail}); expected an ONNX ModelProto file (.onnx).`,
    issues: [{ path: 'model', message: `expected an ONNX model: ${detail}` }],
    provider: 'local',
  });
}
