import type { z } from 'zod';
import { MlscaleError, type SpecIssue } from '../errors.js';

/**
 * Validates `input` against `schema`, returning the parsed value (defaults applied) or throwing an
 * `InvalidSpec` MlscaleError that names each bad field path and what was expected.
 */
export function parseSpec<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
  what: string,
): z.infer<Schema> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = specIssues(result.error);
  const lines = issues.map((issue) => `  - ${issue.path}: ${issue.message}`);
  throw new MlscaleError({
    code: 'InvalidSpec',
    message: `Invalid ${what}:\n${lines.join('\n')}`,
    issues,
  });
}

/** zod's issues as `{ path, message }` with dotted paths (`traffic[0].weight`). */
export function specIssues(error: z.ZodError): SpecIssue[] {
  return error.issues.map((issue) => ({
    path: formatPath(issue.path) || '(root)',
    message: describeIssue(issue),
  }));
}

function formatPath(path: readonly PropertyKey[]): string {
  let result = '';
  for (const segment of path) {
    if (typeof segment === 'number') result += `[${segment}]`;
    else result += result ? `.${String(segment)}` : String(segment);
  }
  return result;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')}`;
  }
  if (issue.code === 'invalid_key') {
    return `invalid key: ${issue.issues.map((inner) => inner.message).join('; ')}`;
  }
  // zod's own wording is "Invalid input: expected number, received string"; the prefix adds nothing.
  return issue.message.replace(/^Invalid input: /, '');
}
