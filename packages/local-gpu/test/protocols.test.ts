import { createMlscale, type MlscaleClient } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalGpuBackend, localGpu } from '../src/index.js';
import { fixedShapeMlp, referenceMlp } from '../src/onnx/index.js';
import {
  inProcessReference,
  maxDifference,
  post,
  referenceInput,
  temporaryFolder,
  v2Body,
  writeModel,
} from './helpers.js';

describe('one server, every protocol, for the reference model', () => {
  const folder = temporaryFolder();
  let backend: LocalGpuBackend;
  let client: MlscaleClient;
  let url: string;
  let reference: Awaited<ReturnType<typeof inProcessReference>>;

  beforeAll(async () => {
    reference = await inProcessReference();
    backend = localGpu({ root: folder.path });
    client = createMlscale({ backend, polling: { minDelayMs: 20, maxDelayMs: 100 } });
    const status = await client.deploy({
      name: 'digits',
      model: { uri: writeModel(folder.path, 'digits.onnx', referenceMlp()) },
      providerOptions: {
        local: { predictRoute: '/v1/endpoints/e1/deployedModels/d1:predict', healthRoute: '/health/d1' },
      },
    });
    url = status.endpoint!.url;
  });

  afterAll(async () => {
    await client?.close();
    folder.remove();
  });

  it('reports the deployment InService on CPU, with the device choice and its reason', async () => {
    const status = await client.get('digits');
    expect(status.state).toBe('InService');
    expect(status.replicas).toEqual({ desired: 1, ready: 1 });
    expect(status.device).toMatchObject({
      requested: 'auto',
      used: 'cpu',
      reason: 'CUDA provider libraries not installed',
    });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('answers health and metadata routes', async () => {
    expect((await fetch(`${url}/v2/health/live`)).status).toBe(200);
    expect(await (await fetch(`${url}/v2/health/ready`)).json()).toEqual({ ready: true });
    const ping = await fetch(`${url}/ping`);
    expect(ping.status).toBe(200);
    expect(await ping.text()).toBe('');
    expect((await fetch(`${url}/health/d1`)).status).toBe(200);
    expect(await (await fetch(`${url}/v2`)).json()).toMatchObject({
      name: 'mlscale',
      extensions: ['binary_tensor_data'],
    });
    expect(await (await fetch(`${url}/v2/models/digits`)).json()).toEqual({
      name: 'digits',
      versions: ['1'],
      platform: 'onnx_onnxv1',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 784] }],
      outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 10] }],
    });
    expect((await fetch(`${url}/v2/models/digits/versions/1`)).status).toBe(200);
    expect(await (await fetch(`${url}/v2/models/digits/ready`)).json()).toEqual({
      name: 'digits',
      ready: true,
    });
    const unknown = await fetch(`${url}/v2/models/nope`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: "unknown model 'nope'" });
  });

  it('V2 JSON infer equals onnxruntime in process within 1e-5', async () => {
    const input = referenceInput(1, 3);
    const response = await post(`${url}/v2/models/digits/infer`, v2Body(input, 3, { id: 'r-1' }));
    expect(response.status).toBe(200);
    const body = JSON.parse(response.text);
    expect(body).toMatchObject({ model_name: 'digits', model_version: '1', id: 'r-1' });
    expect(body.outputs[0]).toMatchObject({ name: 'probabilities', datatype: 'FP32', shape: [3, 10] });
    expect(maxDifference(body.outputs[0].data, await reference(input, 3))).toBeLessThan(1e-5);
    const pinned = await post(`${url}/v2/models/digits/versions/1/infer`, v2Body(input, 3));
    expect(pinned.status).toBe(200);
  });

  it('V2 binary tensors in and out equal onnxruntime in process', async () => {
    const input = referenceInput(2, 4);
    const header = Buffer.from(
      JSON.stringify({
        inputs: [
          {
            name: 'input',
            datatype: 'FP32',
            shape: [4, 784],
            parameters: { binary_data_size: input.byteLength },
          },
        ],
        outputs: [{ name: 'probabilities', parameters: { binary_data: true } }],
      }),
    );
    const response = await post(
      `${url}/v2/models/digits/infer`,
      Buffer.concat([header, Buffer.from(input.buffer)]),
      {
        'content-type': 'application/octet-stream',
        'inference-header-content-length': String(header.length),
      },
    );
    expect(response.status).toBe(200);
    const headerLength = Number(response.headers.get('inference-header-content-length'));
    const json = JSON.parse(Buffer.from(response.bytes.subarray(0, headerLength)).toString('utf8'));
    expect(json.outputs[0]).toEqual({
      name: 'probabilities',
      datatype: 'FP32',
      shape: [4, 10],
      parameters: { binary_data_size: 160 },
    });
    const values = new Float32Array(response.bytes.slice(headerLength).buffer);
    expect(maxDifference(values, await reference(input, 4))).toBeLessThan(1e-5);
  });

  it('SageMaker /invocations takes V2 JSON, instances and CSV', async () => {
    const input = referenceInput(3, 2);
    const expected = await reference(input, 2);
    const v2 = await post(`${url}/invocations`, v2Body(input, 2));
    expect(v2.status).toBe(200);
    expect(maxDifference(JSON.parse(v2.text).outputs[0].data, expected)).toBeLessThan(1e-5);
    const rows = [Array.from(input.subarray(0, 784)), Array.from(input.subarray(784))];
    const instances = await post(`${url}/invocations`, JSON.stringify({ instances: rows }));
    expect(instances.status).toBe(200);
    expect(maxDifference(JSON.parse(instances.text).predictions.flat(), expected)).toBeLessThan(1e-5);
    const csv = await post(`${url}/invocations`, rows.map((row) => row.join(',')).join('\n'), {
      'content-type': 'text/csv',
    });
    expect(csv.status).toBe(200);
    expect(maxDifference(JSON.parse(csv.text).predictions.flat(), expected)).toBeLessThan(1e-5);
  });

  it('SageMaker /invocations answers in the type Accept asks for, and reads NPY and JSON Lines', async () => {
    const input = referenceInput(4, 2);
    const expected = await reference(input, 2);
    const rows = [Array.from(input.subarray(0, 784)), Array.from(input.subarray(784))];
    const csvBody = rows.map((row) => row.join(',')).join('\n');
    // Batch Transform's way: CSV in, CSV out.
    const csv = await post(`${url}/invocations`, csvBody, { 'content-type': 'text/csv', accept: 'text/csv' });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv');
    const csvValues = csv.text
      .trim()
      .split('\n')
      .map((line) => line.split(',').map(Number));
    expect(csvValues).toHaveLength(2);
    expect(maxDifference(csvValues.flat(), expected)).toBeLessThan(1e-5);
    // NumPy's float64 array in (numpy.save of a (2, 784) array), NPY out.
    const values = Float64Array.from(input);
    let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 784), }";
    header = `${header.padEnd(Math.ceil((header.length + 11) / 64) * 64 - 11)}\n`;
    const prefix = Buffer.from([
      0x93,
      0x4e,
      0x55,
      0x4d,
      0x50,
      0x59,
      1,
      0,
      header.length & 0xff,
      header.length >> 8,
    ]);
    const npyBody = Buffer.concat([prefix, Buffer.from(header, 'latin1'), Buffer.from(values.buffer)]);
    const npy = await post(`${url}/invocations`, npyBody, {
      'content-type': 'application/x-npy',
      accept: 'application/x-npy',
    });
    expect(npy.status).toBe(200);
    expect(npy.headers.get('content-type')).toBe('application/x-npy');
    const answerHeaderLength = npy.bytes[8]! | (npy.bytes[9]! << 8);
    const answerHeader = Buffer.from(npy.bytes.subarray(10, 10 + answerHeaderLength)).toString('latin1');
    expect(answerHeader).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 10\), \} *\n$/);
    expect((10 + answerHeaderLength) % 64).toBe(0);
    const answered = new Float32Array(npy.bytes.slice(10 + answerHeaderLength).buffer);
    expect(maxDifference(answered, expected)).toBeLessThan(1e-5);
    // JSON Lines in and out, with the q-values of Accept honoured.
    const lines = await post(`${url}/invocations`, rows.map((row) => JSON.stringify(row)).join('\n'), {
      'content-type': 'application/jsonlines',
      accept: 'text/csv;q=0.5, application/jsonlines',
    });
    expect(lines.status).toBe(200);
    expect(lines.headers.get('content-type')).toBe('application/jsonlines');
    const predictions = lines.text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as number[]);
    expect(maxDifference(predictions.flat(), expected)).toBeLessThan(1e-5);
    // What it cannot read or answer is refused, naming what it can.
    const xml = await post(`${url}/invocations`, '<rows/>', { 'content-type': 'application/xml' });
    expect(xml.status).toBe(415);
    expect(JSON.parse(xml.text).error).toMatch(
      /application\/json, text\/csv, application\/x-npy, application\/jsonlines/,
    );
    const png = await post(`${url}/invocations`, csvBody, {
      'content-type': 'text/csv',
      accept: 'image/png',
    });
    expect(png.status).toBe(406);
    expect(JSON.parse(png.text).error).toMatch(
      /ask for application\/json, text\/csv, application\/x-npy, application\/jsonlines/,
    );
    const v2AsCsv = await post(`${url}/invocations`, v2Body(input, 2), { accept: 'text/csv' });
    expect(v2AsCsv.status).toBe(406);
    const badNpy = await post(`${url}/invocations`, Buffer.from('not npy'), {
      'content-type': 'application/x-npy',
    });
    expect(badNpy.status).toBe(400);
  });

  it("SageMaker /invocations takes Triton's binary content type, with the JSON length in it", async () => {
    const input = referenceInput(8, 2);
    const header = Buffer.from(
      JSON.stringify({
        inputs: [
          {
            name: 'input',
            datatype: 'FP32',
            shape: [2, 784],
            parameters: { binary_data_size: input.byteLength },
          },
        ],
        parameters: { binary_data_output: true },
      }),
    );
    const response = await post(`${url}/invocations`, Buffer.concat([header, Buffer.from(input.buffer)]), {
      'content-type': `application/vnd.sagemaker-triton.binary+json;json-header-size=${header.length}`,
    });
    expect(response.status).toBe(200);
    const match = /json-header-size=(\d+)/.exec(response.headers.get('content-type') ?? '');
    const headerLength = Number(match?.[1]);
    expect(headerLength).toBeGreaterThan(0);
    const json = JSON.parse(Buffer.from(response.bytes.subarray(0, headerLength)).toString('utf8'));
    expect(json.outputs[0].parameters).toEqual({ binary_data_size: 80 });
    const values = new Float32Array(response.bytes.slice(headerLength).buffer);
    expect(maxDifference(values, await reference(input, 2))).toBeLessThan(1e-5);
  });

  it('the real @aws-sdk/client-sagemaker-runtime InvokeEndpoint works against it', async () => {
    const { SageMakerRuntimeClient, InvokeEndpointCommand } = await import(
      '@aws-sdk/client-sagemaker-runtime'
    );
    const runtime = new SageMakerRuntimeClient({
      region: 'us-east-1',
      endpoint: url,
      credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' },
    });
    try {
      const input = referenceInput(4, 1);
      const result = await runtime.send(
        new InvokeEndpointCommand({
          EndpointName: 'digits',
          ContentType: 'application/json',
          Accept: 'application/json',
          Body: JSON.stringify({ instances: [Array.from(input)] }),
        }),
      );
      expect(result.ContentType).toBe('application/json');
      const body = JSON.parse(Buffer.from(result.Body!).toString('utf8'));
      expect(maxDifference(body.predictions[0], await reference(input, 1))).toBeLessThan(1e-5);
      await expect(
        runtime.send(
          new InvokeEndpointCommand({ EndpointName: 'other', ContentType: 'application/json', Body: '{}' }),
        ),
      ).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    } finally {
      runtime.destroy();
    }
  });

  it('Vertex predict on the fixed route and on AIP_PREDICT_ROUTE', async () => {
    const input = referenceInput(5, 2);
    const expected = await reference(input, 2);
    const instances = JSON.stringify({
      instances: [Array.from(input.subarray(0, 784)), Array.from(input.subarray(784))],
    });
    for (const path of [
      '/v1/projects/p1/locations/us-central1/endpoints/e1:predict',
      '/v1/endpoints/e1/deployedModels/d1:predict',
    ]) {
      const response = await post(`${url}${path}`, instances);
      expect(response.status).toBe(200);
      const { predictions } = JSON.parse(response.text);
      expect(predictions).toHaveLength(2);
      expect(maxDifference(predictions.flat(), expected)).toBeLessThan(1e-5);
    }
  });

  it('the client predict goes through the backend and equals onnxruntime', async () => {
    const input = referenceInput(6, 1);
    const response = await client.predict('digits', {
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], data: Array.from(input) }],
    });
    expect(response.modelName).toBe('digits');
    expect(maxDifference(response.outputs[0]!.data as number[], await reference(input, 1))).toBeLessThan(
      1e-5,
    );
  });

  it('exposes Triton-style Prometheus metrics', async () => {
    const response = await fetch(`${url}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await response.text();
    expect(text).toMatch(/nv_inference_request_success\{model="digits",version="1"\} \d+/);
    expect(text).toMatch(/nv_inference_count\{model="digits",version="1"\} \d+/);
    expect(text).toMatch(/nv_inference_exec_count\{model="digits",version="1"\} \d+/);
    expect(text).toContain('nv_inference_pending_request_count{model="digits",version="1"} 0');
    expect(text).toContain('mlscale_request_duration_seconds_bucket');
    expect(text).toContain('mlscale_queue_duration_seconds_bucket');
    expect(text).toContain('mlscale_compute_duration_seconds_bucket');
    expect(text).toContain('mlscale_replicas{model="digits",version="1",state="ready"} 1');
    expect(text).toContain(
      'mlscale_device_info{model="digits",requested="auto",used="cpu",reason="CUDA provider libraries not installed"} 1',
    );
    // No GPU here: GPU series are absent, never invented.
    expect(text).not.toContain('nv_gpu_utilization{');
  });

  it('runs a model without a dynamic batch dimension unbatched', async () => {
    const status = await client.deploy({
      name: 'fixed-shape',
      model: { uri: writeModel(folder.path, 'fixed.onnx', fixedShapeMlp()) },
    });
    const fixedUrl = status.endpoint!.url;
    const requests = Array.from({ length: 6 }, (_, index) =>
      post(
        `${fixedUrl}/v2/models/fixed-shape/infer`,
        JSON.stringify({
          inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [index, 1, 2, 3] }],
        }),
      ),
    );
    const responses = await Promise.all(requests);
    for (const response of responses) {
      expect(response.status).toBe(200);
      expect(JSON.parse(response.text).outputs[0].shape).toEqual([1, 3]);
    }
    const metrics = await (await fetch(`${fixedUrl}/metrics`)).text();
    expect(metrics).toContain('nv_inference_exec_count{model="fixed-shape",version="1"} 6');
    const twoRows = await post(
      `${fixedUrl}/v2/models/fixed-shape/infer`,
      JSON.stringify({
        inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 4], data: [1, 2, 3, 4, 5, 6, 7, 8] }],
      }),
    );
    expect(twoRows.status).toBe(400);
    expect(JSON.parse(twoRows.text).error).toMatch(/expected shape \[1, 4\], got \[2, 4\]/);
    await client.delete('fixed-shape');
  });
});
