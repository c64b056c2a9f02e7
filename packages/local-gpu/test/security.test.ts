import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { createMlscale, type MlscaleClient, MlscaleError } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localGpu } from '../src/index.js';
import { referenceMlp } from '../src/onnx/index.js';
import { isLoopbackHost } from '../src/server/access.js';
import { post, referenceInput, temporaryFolder, v2Body, writeModel } from './helpers.js';

const token = 'test-token-0123456789abcdef';
const hasOpenssl = existsSync('/usr/bin/openssl');

describe('access control', () => {
  const folder = temporaryFolder();
  let client: MlscaleClient;
  let modelPath: string;
  const body = v2Body(referenceInput(5), 1);

  beforeAll(() => {
    modelPath = writeModel(folder.path, 'reference.onnx', referenceMlp());
    client = createMlscale({
      backend: localGpu({ root: folder.path }),
      polling: { minDelayMs: 20, maxDelayMs: 100 },
    });
  });

  afterAll(async () => {
    await client?.close();
    folder.remove();
  });

  it('tells loopback addresses from others', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost'])
      expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.1', 'example.com'])
      expect(isLoopbackHost(host)).toBe(false);
  });

  it('refuses to bind a non-loopback address without a token', async () => {
    const error = await client
      .deploy({ name: 'open', model: { uri: modelPath }, providerOptions: { local: { host: '0.0.0.0' } } })
      .catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(error, 'InvalidSpec')).toBe(true);
    expect((error as Error).message).toMatch(/Refusing to bind 0\.0\.0\.0 without a token/);
  });

  it('with a token off loopback, every route but health needs it, and the token never shows', async () => {
    const status = await client.deploy({
      name: 'guarded',
      model: { uri: modelPath },
      providerOptions: { local: { host: '0.0.0.0', token } },
    });
    // Bound to all addresses; the test talks to loopback only.
    const url = status.endpoint!.url.replace('0.0.0.0', '127.0.0.1');
    expect(JSON.stringify(status)).not.toContain(token);
    expect(readFileSync(join(folder.path, 'deployments', 'guarded.json'), 'utf8')).not.toContain(token);
    expect((await fetch(`${url}/v2/health/live`)).status).toBe(200);
    expect((await fetch(`${url}/v2/health/ready`)).status).toBe(200);
    expect((await fetch(`${url}/ping`)).status).toBe(200);
    const infer = `${url}/v2/models/guarded/infer`;
    const anonymous = await post(infer, body);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    expect(anonymous.text).not.toContain(token);
    expect(
      (
        await post(infer, body, {
          'content-type': 'application/json',
          authorization: 'Bearer wrong-token-0123456789abc',
        })
      ).status,
    ).toBe(401);
    expect(
      (await post(infer, body, { 'content-type': 'application/json', authorization: `Bearer ${token}` }))
        .status,
    ).toBe(200);
    for (const path of ['/metrics', '/v2', '/v2/models/guarded'])
      expect((await fetch(`${url}${path}`)).status).toBe(401);
    expect((await post(`${url}/invocations`, body)).status).toBe(401);
    expect((await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(
      200,
    );
    await client.delete('guarded');
  });

  it.skipIf(!hasOpenssl)('serves HTTPS from a key and certificate', async () => {
    const keyPath = join(folder.path, 'key.pem');
    const certPath = join(folder.path, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        keyPath,
        '-out',
        certPath,
      ],
      { stdio: 'ignore' },
    );
    const cert = readFileSync(certPath, 'utf8');
    const status = await client.deploy({
      name: 'tls',
      model: { uri: modelPath },
      providerOptions: { local: { tls: { key: readFileSync(keyPath, 'utf8'), cert } } },
    });
    expect(status.endpoint!.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(JSON.stringify(status)).not.toContain('PRIVATE KEY');
    // The key is recorded only as a seal (core does not know a field named `key` is secret; local seals it).
    const recorded = readFileSync(join(folder.path, 'deployments', 'tls.json'), 'utf8');
    expect(recorded).toContain('BEGIN CERTIFICATE');
    expect(recorded).not.toContain('PRIVATE KEY');
    expect(JSON.parse(recorded).record.desired.providerOptions.local.tls.key).toMatch(/^sealed:hmac-sha256:/);
    const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const request = httpsRequest(
        `${status.endpoint!.url}/v2/models/tls/infer`,
        { method: 'POST', ca: cert, headers: { 'content-type': 'application/json' } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
          );
        },
      );
      request.on('error', reject);
      request.end(body);
    });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text).outputs[0].shape).toEqual([1, 10]);
    await client.delete('tls');
  });
});
