import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { MlscaleError } from '@mlscale/core';
import { exitCodes } from './command-context.js';
import { defineCommand } from './define-command.js';
import { findResource } from './find-resource.js';
import { openProject } from './open-project.js';

/** `mlscale predict NAME --data FILE|-`: one inference request. */
export const predictCommand = defineCommand({
  name: 'predict',
  summary: 'Send one inference request (Open Inference Protocol tensors as JSON) to a deployment.',
  usage: 'mlscale predict NAME --data FILE|- [--json]',
  optionHelp: [
    '  -d, --data FILE     the request: {"inputs": [{"name", "datatype", "shape", "data"}]}; - reads stdin',
  ],
  examples: [
    'mlscale predict mnist-classifier --data request.json',
    `echo '{"inputs":[{"name":"x","datatype":"FP32","shape":[1,2],"data":[1,2]}]}' | mlscale predict mnist-classifier --data -`,
  ],
  options: { data: { type: 'string', short: 'd' } },
  minPositionals: 1,
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
    const project = await openProject(values, context);
    try {
      const resource = findResource(project.config, positionals[0] ?? '', 'deployment');
      const client = await project.pool.client(resource.backend);
      const response = await client.predict(
        resource.name,
        request as never,
        context.signal ? { signal: context.signal } : {},
      );
      if (output.json) output.result(response);
      else {
        output.line(
          `model ${response.modelName}${response.modelVersion ? ` (version ${response.modelVersion})` : ''}`,
        );
        for (const tensor of response.outputs)
          output.line(
            `${tensor.name} ${tensor.datatype} [${tensor.shape.join(', ')}]: ${JSON.stringify(tensor.data)}`,
          );
      }
      return exitCodes.ok;
    } finally {
      await project.close();
    }
  },
});

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
