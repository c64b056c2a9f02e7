import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A local filesystem path from a path or `file://` URI, or `undefined` for a remote URI (`s3://`,
 * `gs://`, `https://`, ...) that the local backend cannot read.
 */
export function localPath(uriOrPath: string, base = process.cwd()): string | undefined {
  if (uriOrPath.startsWith('file://')) return fileURLToPath(uriOrPath);
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(uriOrPath)) return undefined;
  return isAbsolute(uriOrPath) ? uriOrPath : resolve(base, uriOrPath);
}
