import { AwsServiceError } from './aws-service-error.js';

/** One page of `items` from an opaque NextToken (a base64 offset), as AWS list calls page. */
export function paginate<T>(
  items: readonly T[],
  nextToken: unknown,
  maxResults: unknown,
  defaultPageSize: number,
  maximumPageSize = 100,
): { page: T[]; nextToken?: string } {
  let offset = 0;
  if (nextToken !== undefined && nextToken !== null) {
    const decoded = typeof nextToken === 'string' ? Buffer.from(nextToken, 'base64url').toString('utf8') : '';
    if (!/^\d+$/.test(decoded)) throw new AwsServiceError('ValidationException', 'Invalid pagination token.');
    offset = Number(decoded);
  }
  if (
    maxResults !== undefined &&
    maxResults !== null &&
    !(Number.isInteger(maxResults) && (maxResults as number) > 0)
  ) {
    throw new AwsServiceError(
      'ValidationException',
      `Value '${String(maxResults)}' at 'maxResults' failed to satisfy constraint: Member must be a positive integer.`,
    );
  }
  const size =
    typeof maxResults === 'number' && maxResults > 0
      ? Math.min(maxResults, maximumPageSize)
      : defaultPageSize;
  const page = items.slice(offset, offset + size);
  const end = offset + page.length;
  return end < items.length ? { page, nextToken: Buffer.from(String(end)).toString('base64url') } : { page };
}
