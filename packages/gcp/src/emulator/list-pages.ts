import { statusError } from './grpc-status.js';

/** Most items a list call answers with when the request sets no page size. */
const defaultPageSize = 100;

/**
 * One page of a list answer, as Google's list calls page: `page_size` items at most (the service's
 * default when unset), and a `next_page_token` while items remain (empty on the last page).
 */
export function pageOf<Item>(
  items: readonly Item[],
  request: Record<string, unknown>,
): { items: Item[]; nextPageToken: string } {
  const size = Number(request.pageSize ?? 0) > 0 ? Number(request.pageSize) : defaultPageSize;
  const token = typeof request.pageToken === 'string' ? request.pageToken : '';
  const start = token ? Number(Buffer.from(token, 'base64url').toString('utf8')) : 0;
  if (!Number.isInteger(start) || start < 0 || start > items.length)
    throw statusError('INVALID_ARGUMENT', `Invalid page_token "${token}".`);
  const end = start + size;
  return {
    items: items.slice(start, end),
    nextPageToken: end < items.length ? Buffer.from(String(end)).toString('base64url') : '',
  };
}
