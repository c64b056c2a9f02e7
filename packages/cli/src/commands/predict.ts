import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { MlscaleError, type PredictResponse } from '@mlscale/core';
import { exitCodes } from './command-context.js';
import { type CommandOutput, defineCommand } from './define-command.js';
import { findResource } from './find-resource.js';
import { openProject } from './open-project.js';

/** `mlscale predict NAME --data FILE|-`, or `--url URL` with no config file: one inference request. */
export const predictCommand = defineCommand({
  name: 'predict',
  summary: 'Send one inference request (Open Inference Protocol tensors as JSON) to a deployment.',
  usage: 'mlscale predict NAME --data FILE|- [--json]  |  mlscale predict [NAME] --url URL --data FILE|-',
  optionHelp: [
    '  -d, --data FILE     the request: {"inputs": [{"name", "datatype", "shape", "data"}]}; - reads stdin',
    '      --url URL       a server to send it to, without a config file: its base URL (with NAME: the',
    '                      V2 route /v2/models/NAME/infer) or the full infer URL',
    '      --token TOKEN   bearer token for --url (default: $MLSCALE_TOKEN)',
  ],
  examples: [
    'mlscale predict mnist-classifier --data request.json',
    `echo '{"inputs":[{"name":"x","datatype":"FP32","shape":[1,2],"data":[1,2]}]}' | mlscale predict mnist-classifier --data -`,
    'mlscale predict digits --url http://127.0.0.1:8080 --data request.json   # a running mlscale serve',
  ],
  options: { data: { type: 'string', short: 'd' }, url: { type: 'string' }, token: { type: 'string' } },
  minPositionals: 0,
  maxPositionals: 1,
  async run({ values, positionals, context, output }) {
    if (!values.data)
      throw new MlscaleError({
        code: 'InvalidSpec',
        message: 'mlscale predict: --data FILE (or - for stdin) is required.',
      });
    const text =
      values.data === '-'
        ? await readAll(context.stdin)
        : await readFile(resolve(context.cwd, values.data), 'utf8');
    let request: unknown;
    try {
      request = JSON.parse(text);
    } catch (error) {
      throw new MlscaleError({
        code: 'InvalidSpec',
        message: `--data ${values.data}: invalid JSON: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
    if (values.url !== undefined) {
      const response = await predictAt(
        inferUrl(values.url, positionals[0]),
        text,
        values.token ?? context.env.MLSCALE_TOKEN,
        context.signal,
      );
      show(response, output);
      return exitCodes.ok;
    }
    if (positionals[0] === undefined)
      throw new MlscaleError({ code: 'InvalidSpec', message: 'mlscale predict: give NAME (or --url URL).' });
    const project = await openProject(values, context);
    try {
      const resource = findResource(project.config, positionals[0], 'deployment');
      const client = await project.pool.client(resource.backend);
      const response = await client.predict(
        resource.name,
        request as never,
        context.signal ? { signal: context.signal } : {},
      );
      show(response, output);
      return exitCodes.ok;
    } finally {
      await project.close();
    }
  },
});

/** A prediction's outputs, as text or JSON. */
function show(response: PredictResponse, output: CommandOutput): void {
  if (output.json) {
    output.result(response);
    return;
  }
  output.line(
    `model ${response.modelName}${response.modelVersion ? ` (version ${response.modelVersion})` : ''}`,
  );
  for (const tensor of response.outputs)
    output.line(
      `${tensor.name} ${tensor.datatype} [${tensor.shape.join(', ')}]: ${JSON.stringify(tensor.data)}`,
    );
}

/** The infer URL: given whole (`…/infer`), or a server's base URL and the model's V2 route. */
function inferUrl(url: string, name: string | undefined): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new MlscaleError({
      code: 'InvalidSpec',
      message: `--url: expected an http(s) URL, got ${JSON.stringify(url)}`,
    });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new MlscaleError({
      code: 'InvalidSpec',
      message: `--url: expected an http(s) URL, got ${parsed.protocol}`,
    });
  if (/\/infer$/.test(parsed.pathname)) return parsed.toString();
  if (name === undefined)
    throw new MlscaleError({
      code: 'InvalidSpec',
      message: '--url: give the model NAME too, or the full URL ending in /v2/models/NAME/infer.',
    });
  parsed.pathname = `${parsed.pathname.replace(/\/$/, '')}/v2/models/${encodeURIComponent(name)}/infer`;
  return parsed.toString();
}

/** POSTs a V2 request and reads the V2 answer; the server's error text on a refusal. */
async function predictAt(
  url: string,
  body: string,
  token: string | undefined,
  signal: AbortSignal | undefined,
): Promise<PredictResponse> {
  const response = await fetch(url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(signal ? { signal } : {}),
  }).catch((error: unknown) => {
    throw new MlscaleError({
      code: 'BackendFailure',
      message: `${url}: ${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)}`,
    });
  });
  const text = await response.text();
  let answer: {
    error?: string;
    model_name?: string;
    model_version?: string;
    outputs?: PredictResponse['outputs'];
  };
  try {
    answer = JSON.parse(text);
  } catch {
    answer = { error: text.slice(0, 200) };
  }
  if (!response.ok || !answer.outputs) {
    throw new MlscaleError({
      code: response.status >= 400 && response.status < 500 ? 'InvalidSpec' : 'BackendFailure',
      message: `${url} answered ${response.status}: ${answer.error ?? text.slice(0, 200)}`,
    });
  }
  return {
    modelName: answer.model_name ?? '',
    ...(answer.model_version ? { modelVersion: answer.model_version } : {}),
    outputs: answer.outputs,
  };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
