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
  if (typeof nextToken === 'string' && nextToken.length > 0) {
    const decoded = Number(Buffer.from(nextToken, 'base64url').toString('utf8'));
    if (!Number.isInteger(decoded) || decoded < 0) {
      throw new AwsServiceError('ValidationException', 'Invalid pagination token.');
    }
    offset = decoded;
  }
  const size =
    typeof maxResults === 'number' && maxResults > 0
      ? Math.min(maxResults, maximumPageSize)
      : defaultPageSize;
  const page = items.slice(offset, offset + size);
  const end = offset + page.length;
  return end < items.length ? { page, nextToken: Buffer.from(String(end)).toString('base64url') } : { page };
}
