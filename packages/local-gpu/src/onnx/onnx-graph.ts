import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** ONNX tensor element types this package writes (onnx.TensorProto.DataType values). */
export const onnxElementType = {
  float: 1,
  int64: 7,
} as const;

/** A graph input or output: its name, element type and dims (a string is a symbolic, dynamic dim). */
export interface GraphValue {
  name: string;
  elementType: number;
  shape: readonly (number | string)[];
}

/** A float initializer (a constant weight tensor). */
export interface FloatInitializer {
  name: string;
  dims: readonly number[];
  values: Float32Array;
}

/** An int64 initializer (shapes, axes). */
export interface Int64Initializer {
  name: string;
  dims: readonly number[];
  values: readonly number[];
}

/** One operator of the graph. */
export interface GraphNode {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  /** Integer attributes (Softmax's `axis`, Gemm's `transB`). */
  intAttributes?: Record<string, number>;
}

/** What `encodeGraph` writes: one graph, default ONNX domain. */
export interface GraphDefinition {
  name: string;
  inputs: readonly GraphValue[];
  outputs: readonly GraphValue[];
  nodes: readonly GraphNode[];
  floatInitializers?: readonly FloatInitializer[];
  int64Initializers?: readonly Int64Initializer[];
  /** Default 17. */
  opset?: number;
  /** Default 8 (what onnxruntime 1.30 and the seed's make_models.py write). */
  irVersion?: number;
}

/** Serializes a graph as an ONNX ModelProto; initializers go in as little-endian `rawData`. */
export function encodeGraph(definition: GraphDefinition): Uint8Array {
  const valueInfo = (value: GraphValue) =>
    onnx.ValueInfoProto.create({
      name: value.name,
      type: onnx.TypeProto.create({
        tensorType: onnx.TypeProto.Tensor.create({
          elemType: value.elementType,
          shape: onnx.TensorShapeProto.create({
            dim: value.shape.map((dim) =>
              typeof dim === 'string'
                ? onnx.TensorShapeProto.Dimension.create({ dimParam: dim })
                : onnx.TensorShapeProto.Dimension.create({ dimValue: dim }),
            ),
          }),
        }),
      }),
    });
  const initializers = [
    ...(definition.floatInitializers ?? []).map((initializer) =>
      onnx.TensorProto.create({
        name: initializer.name,
        dims: [...initializer.dims],
        dataType: onnxElementType.float,
        rawData: littleEndianFloat32(initializer.values),
      }),
    ),
    ...(definition.int64Initializers ?? []).map((initializer) =>
      onnx.TensorProto.create({
        name: initializer.name,
        dims: [...initializer.dims],
        dataType: onnxElementType.int64,
        rawData: littleEndianInt64(initializer.values),
      }),
    ),
  ];
  const model = onnx.ModelProto.create({
    irVersion: definition.irVersion ?? 8,
    producerName: 'mlscale',
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: definition.opset ?? 17 })],
    graph: onnx.GraphProto.create({
      name: definition.name,
      node: definition.nodes.map((node, index) =>
        onnx.NodeProto.create({
          name: `${node.opType.toLowerCase()}_${index}`,
          opType: node.opType,
          input: [...node.inputs],
          output: [...node.outputs],
          attribute: Object.entries(node.intAttributes ?? {}).map(([name, value]) =>
            onnx.AttributeProto.create({ name, i: value, type: onnx.AttributeProto.AttributeType.INT }),
          ),
        }),
      ),
      initializer: initializers,
      input: definition.inputs.map(valueInfo),
      output: definition.outputs.map(valueInfo),
    }),
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Float32 values as little-endian bytes, whatever the host's byte order. */
function littleEndianFloat32(values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let index = 0; index < values.length; index++) view.setFloat32(index * 4, values[index]!, true);
  return bytes;
}

function littleEndianInt64(values: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  for (let index = 0; index < values.length; index++) {
    view.setBigInt64(index * 8, BigInt(values[index]!), true);
  }
  return bytes;
}
