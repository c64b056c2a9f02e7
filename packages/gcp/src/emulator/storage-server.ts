import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32cBase64 } from './crc32c.js';

/** One stored object. */
export interface StoredObject {
  bucket: string;
  name: string;
  data: Buffer;
  contentType: string;
  metadata: Record<string, string>;
  generation: string;
  created: Date;
}

/** A Cloud Storage JSON API server on loopback: the routes `@google-cloud/storage` uses for uploads and metadata. */
export interface StorageServer {
  /** `http://127.0.0.1:PORT`, for the storage client's `apiEndpoint`. */
  url: string;
  /** `bucket/object` → object. */
  objects: Map<string, StoredObject>;
  close(): Promise<void>;
}

const maxUploadBytes = 512 * 1024 * 1024;

export async function startStorageServer(port = 0): Promise<StorageServer> {
  const objects = new Map<string, StoredObject>();
  let generation = Date.now();
  let url = '';

  const resource = (object: StoredObject) => ({
    kind: 'storage#object',
    id: `${object.bucket}/${object.name}/${object.generation}`,
    selfLink: `${url}/storage/v1/b/${object.bucket}/o/${encodeURIComponent(object.name)}`,
    name: object.name,
    bucket: object.bucket,
    generation: object.generation,
    metageneration: '1',
    contentType: object.contentType,
    size: String(object.data.length),
    md5Hash: createHash('md5').update(object.data).digest('base64'),
    crc32c: crc32cBase64(object.data),
    etag: object.generation,
    timeCreated: object.created.toISOString(),
    updated: object.created.toISOString(),
    metadata: object.metadata,
  });

  function store(
    bucket: string,
    name: string,
    data: Buffer,
    contentType: string,
    metadata: Record<string, string>,
  ) {
    const object: StoredObject = {
      bucket,
      name,
      data,
      contentType,
      metadata,
      generation: String(++generation),
      created: new Date(),
    };
    objects.set(`${bucket}/${name}`, object);
    return object;
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const address = new URL(request.url ?? '/', 'http://127.0.0.1');
    const path = address.pathname;
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    const notFound = (what: string) =>
      send(404, {
        error: {
          code: 404,
          message: `No such object: ${what}`,
          errors: [{ reason: 'notFound', message: `No such object: ${what}` }],
        },
      });

    let match = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(path);
    if (match && request.method === 'POST') {
      const bucket = decodeURIComponent(match[1]!);
      const body = await readBody(request);
      const uploadType = address.searchParams.get('uploadType');
      const contentType = request.headers['content-type'] ?? 'application/octet-stream';
      if (uploadType === 'multipart') {
        const parts = parseMultipart(body, contentType);
        if (!parts || parts.length < 2)
          return send(400, {
            error: { code: 400, message: 'Expected a multipart/related body with metadata and media.' },
          });
        const meta = JSON.parse(parts[0]!.body.toString('utf8')) as {
          name?: string;
          contentType?: string;
          metadata?: Record<string, string>;
        };
        const name = meta.name ?? address.searchParams.get('name');
        if (!name) return send(400, { error: { code: 400, message: 'Object name is required.' } });
        const object = store(
          bucket,
          name,
          parts[1]!.body,
          meta.contentType ?? parts[1]!.contentType ?? 'application/octet-stream',
          meta.metadata ?? {},
        );
        return send(200, resource(object));
      }
      if (uploadType === 'media') {
        const name = address.searchParams.get('name');
        if (!name) return send(400, { error: { code: 400, message: 'Object name is required.' } });
        return send(200, resource(store(bucket, name, body, contentType, {})));
      }
      return send(400, {
        error: {
          code: 400,
          message: `Unsupported uploadType "${uploadType}" (the emulator takes multipart and media uploads).`,
        },
      });
    }

    match = /^\/(?:download\/)?storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(path);
    if (match) {
      const key = `${decodeURIComponent(match[1]!)}/${decodeURIComponent(match[2]!)}`;
      const object = objects.get(key);
      if (request.method === 'DELETE') {
        if (!object) return notFound(key);
        objects.delete(key);
        response.writeHead(204).end();
        return;
      }
      if (!object) return notFound(key);
      if (address.searchParams.get('alt') === 'media') {
        response.writeHead(200, {
          'content-type': object.contentType,
          'content-length': object.data.length,
          'x-goog-hash': `crc32c=${crc32cBase64(object.data)}`,
        });
        response.end(object.data);
        return;
      }
      return send(200, resource(object));
    }

    match = /^\/storage\/v1\/b\/([^/]+)\/o$/.exec(path);
    if (match && request.method === 'GET') {
      const bucket = decodeURIComponent(match[1]!);
      const prefix = address.searchParams.get('prefix') ?? '';
      const items = [...objects.values()]
        .filter((object) => object.bucket === bucket && object.name.startsWith(prefix))
        .map(resource);
      return send(200, { kind: 'storage#objects', items });
    }

    match = /^\/storage\/v1\/b\/([^/]+)$/.exec(path);
    if (match && request.method === 'GET') {
      return send(200, {
        kind: 'storage#bucket',
        id: match[1],
        name: decodeURIComponent(match[1]!),
        location: 'US',
      });
    }
    send(404, { error: { code: 404, message: `The emulator does not serve ${request.method} ${path}.` } });
  }

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { code: 500, message: String(error) } }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    objects,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxUploadBytes) {
        reject(new Error(`upload larger than ${maxUploadBytes} bytes`));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** Parts of a multipart/related body. */
function parseMultipart(
  body: Buffer,
  contentType: string,
): { contentType?: string; body: Buffer }[] | undefined {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (!boundary) return undefined;
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: { contentType?: string; body: Buffer }[] = [];
  let start = body.indexOf(delimiter);
  while (start !== -1) {
    const next = body.indexOf(delimiter, start + delimiter.length);
    if (next === -1) break;
    const part = body.subarray(start + delimiter.length, next);
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd !== -1) {
      const headers = part.subarray(0, headerEnd).toString('utf8');
      let content = part.subarray(headerEnd + 4);
      if (content.subarray(-2).toString() === '\r\n') content = content.subarray(0, -2);
      const type = /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1]?.trim();
      parts.push({ ...(type ? { contentType: type } : {}), body: content });
    }
    start = next;
  }
  return parts;
}
