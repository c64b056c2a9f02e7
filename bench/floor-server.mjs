// The HTTP + JSON floor: a bare node:http server that reads and parses the same KServe V2 JSON request the
// model server gets, copies the tensor into a Float32Array as any server must, and answers a V2 response
// of the same shape, without inference. Usage: node floor-server.mjs [PORT]; prints {"url": ...} once
// listening; SIGTERM closes it. main-thread-cost.mjs imports `floorHandler` to run it in process.
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';

const outputWidth = 10;
const inputWidth = 784;

function badRequest(response, message) {
  const body = JSON.stringify({ error: message });
  response.writeHead(400, [
    'Content-Type',
    'application/json',
    'Content-Length',
    String(Buffer.byteLength(body)),
  ]);
  response.end(body);
}

/**
 * The floor's request handler.
 *
 * @param {import('node:http').IncomingMessage} request
 * @param {import('node:http').ServerResponse} response
 */
export function floorHandler(request, response) {
  if (request.method !== 'POST') {
    response.writeHead(405, ['Content-Length', '0']);
    response.end();
    return;
  }
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    let parsed;
    try {
      parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return badRequest(response, 'invalid JSON');
    }
    const input = parsed?.inputs?.[0];
    const rows = input?.shape?.[0];
    if (!Array.isArray(input?.data) || !Number.isInteger(rows) || input.data.length !== rows * inputWidth) {
      return badRequest(response, `expected inputs[0] of shape [N, ${inputWidth}] with flat data`);
    }
    const tensor = new Float32Array(input.data.length);
    for (let index = 0; index < tensor.length; index++) {
      const value = input.data[index];
      if (typeof value !== 'number' || !Number.isFinite(value))
        return badRequest(response, 'non-finite value');
      tensor[index] = value;
    }
    const body = JSON.stringify({
      model_name: 'model',
      model_version: '1',
      outputs: [
        {
          name: 'probabilities',
          datatype: 'FP32',
          shape: [rows, outputWidth],
          data: Array.from(new Float32Array(rows * outputWidth).fill(1 / outputWidth)),
        },
      ],
    });
    response.writeHead(200, [
      'Content-Type',
      'application/json',
      'Content-Length',
      String(Buffer.byteLength(body)),
    ]);
    response.end(body);
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const server = createServer(floorHandler);
  server.keepAliveTimeout = 65_000;
  server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${server.address().port}` })}\n`);
  });
  process.on('SIGTERM', () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
