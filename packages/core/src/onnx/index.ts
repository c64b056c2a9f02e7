/** `@mlscale/core/onnx`: a model's signature from its ONNX bytes (apart from the main entry: it loads onnx-proto). */
export * from '../signature/read-onnx-signature.js';
