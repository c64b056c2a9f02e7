import onnxProto from 'onnx-proto';
import { MlscaleError } from '../errors.js';
import type { TensorDatatype } from '../spec/predict.js';
import type { ModelSignature, TensorSignature } from './model-signature.js';

const { onnx } = onnxProto;

/** ONNX `TensorProto.DataType` numbers → Open Inference Protocol datatypes. */
export const datatypeByOnnxElementType: ReadonlyMap<number, TensorDatatype> = new Map([
  [1, 'FP32'],
  [2, 'UINT8'],
  [3, 'INT8'],
  [4, 'UINT16'],
  [5, 'INT16'],
  [6, 'INT32'],
  [7, 'INT64'],
  [8, 'BYTES'],
  [9, 'BOOL'],
  [10, 'FP16'],
  [11, 'FP64'],
  [12, 'UINT32'],
  [13, 'UINT64'],
]);

/** An ONNX model's graph, as far as its signature goes. */
export interface OnnxModelDescription extends ModelSignature {
  opset?: number;
  producer?: string;
}

/**
 * Reads a model's inputs and outputs from its ONNX bytes (initializers are not inputs); throws
 * `InvalidSpec` naming `source` when the bytes are not an ONNX model.
 */
export function readOnnxSignature(bytes: Uint8Array, source: string): OnnxModelDescription {
  let model: ReturnType<typeof onnx.ModelProto.decode>;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw notOnnx(source, error instanceof Error ? error.message : String(error));
  }
  const graph = model.graph;
  if (!graph || Number(model.irVersion ?? 0) <= 0 || !graph.node?.length) {
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
  const opset = model.opsetImport?.find((entry) => !entry.domain)?.version;
  return {
    inputs,
    outputs,
    ...(opset === undefined || opset === null ? {} : { opset: Number(opset) }),
    ...(model.producerName ? { producer: model.producerName } : {}),
  };
}

function notOnnx(source: string, detail: string): MlscaleError {
  return new MlscaleError({
    code: 'InvalidSpec',
    message: `Model ${source} is not a valid ONNX model (${detail}); expected an ONNX ModelProto file (.onnx).`,
    issues: [{ path: 'model', message: `expected an ONNX model: ${detail}` }],
  });
}
