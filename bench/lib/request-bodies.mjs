/** The reference model's input: name, width (one row), and the output's width. */
export const modelInput = { name: 'input', width: 784, outputName: 'probabilities', outputWidth: 10 };

/**
 * `rows` × 784 inputs in [-2, 2) from a seeded generator (mulberry32), rounded to 6 decimals as a
 * client printing float32 values would send them. The same values go to every server.
 *
 * @param {number} rows
 * @param {number} [seed]
 * @returns {Float32Array}
 */
export function inputRows(rows, seed = 7) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
  const data = new Float32Array(rows * modelInput.width);
  for (let index = 0; index < data.length; index++) data[index] = Math.round((next() * 4 - 2) * 1e6) / 1e6;
  return data;
}

/** JSON numbers for a row, printed from the float32 values the server will see. */
function jsonNumbers(data) {
  return Array.from(data, (value) => Number(value.toFixed(6)));
}

/**
 * A KServe V2 JSON request for the rows in `data` (flat, row-major).
 *
 * @param {Float32Array} data
 */
export function v2JsonBody(data) {
  const rows = data.length / modelInput.width;
  return JSON.stringify({
    inputs: [
      { name: modelInput.name, shape: [rows, modelInput.width], datatype: 'FP32', data: jsonNumbers(data) },
    ],
  });
}

/**
 * The seed Flask app's request, `{"input": [784 numbers]}`, for one row.
 *
 * @param {Float32Array} row
 */
export function flaskJsonBody(row) {
  return JSON.stringify({ input: jsonNumbers(row) });
}

/**
 * A V2 binary tensor request: JSON header, then the rows' little-endian float32 bytes; it asks for binary
 * outputs too. Returns the body and the header's length (`Inference-Header-Content-Length`).
 *
 * @param {Float32Array} data
 * @returns {{ body: Buffer, headerLength: number }}
 */
export function v2BinaryBody(data) {
  const rows = data.length / modelInput.width;
  const header = Buffer.from(
    JSON.stringify({
      inputs: [
        {
          name: modelInput.name,
          shape: [rows, modelInput.width],
          datatype: 'FP32',
          parameters: { binary_data_size: data.byteLength },
        },
      ],
      parameters: { binary_data_output: true },
    }),
  );
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return { body: Buffer.concat([header, bytes]), headerLength: header.length };
}

/**
 * The output rows of a V2 binary response (`probabilities` as float32).
 *
 * @param {Buffer} body
 * @param {number} headerLength
 * @returns {Float32Array}
 */
export function decodeV2BinaryOutput(body, headerLength) {
  const header = JSON.parse(body.subarray(0, headerLength).toString('utf8'));
  let offset = headerLength;
  for (const output of header.outputs) {
    const size = output.parameters?.binary_data_size ?? 0;
    if (output.name === modelInput.outputName) {
      const bytes = body.subarray(offset, offset + size);
      // Copied into its own buffer: the view may not be 4-byte aligned.
      return new Float32Array(new Uint8Array(bytes).buffer);
    }
    offset += size;
  }
  throw new Error(`the binary response has no output '${modelInput.outputName}'`);
}
