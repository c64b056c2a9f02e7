import { AwsServiceError, constraintViolation } from './aws-service-error.js';
import { fromEpochSeconds, type JsonObject } from './emulator-context.js';

/** What a SageMaker List* summary is sorted and filtered on. */
export interface Listable {
  name: string;
  /** Epoch ms. */
  creationTime: number;
  /** Epoch ms; resources that are never modified use their creation time. */
  lastModifiedTime?: number;
  status?: string;
}

/** The sort keys and filters one List* operation accepts (the SageMaker API reference for each). */
export interface ListRules {
  /** Valid `SortBy` values: `Name | CreationTime` (ListModels, ListEndpointConfigs) or with `Status`. */
  sortKeys: readonly string[];
  /** Valid `StatusEquals` values, for operations that filter on status. */
  statuses?: readonly string[];
}

/** SageMaker's name filter: `NameContains` has length 0–63 and pattern `[a-zA-Z0-9-]+`. */
const nameContainsPattern = /^[a-zA-Z0-9-]+$/;

/**
 * Validates and applies SortBy, SortOrder, NameContains, StatusEquals and the creation and
 * modification time filters of ListEndpoints, ListEndpointConfigs and ListModels, as the SageMaker API
 * reference documents them: SortBy defaults to CreationTime, SortOrder to Descending; MaxResults is
 * 1–100. Returns the items to page, in order.
 */
export function listItems<T extends Listable>(input: JsonObject, items: readonly T[], rules: ListRules): T[] {
  const sortBy = input.SortBy ?? 'CreationTime';
  if (typeof sortBy !== 'string' || !rules.sortKeys.includes(sortBy)) {
    throw constraintViolation(
      'sortBy',
      sortBy,
      `Member must satisfy enum value set: [${rules.sortKeys.join(', ')}]`,
    );
  }
  const sortOrder = input.SortOrder ?? 'Descending';
  if (sortOrder !== 'Ascending' && sortOrder !== 'Descending') {
    throw constraintViolation(
      'sortOrder',
      sortOrder,
      'Member must satisfy enum value set: [Ascending, Descending]',
    );
  }
  requireMaxResults(input.MaxResults);
  const contains = input.NameContains;
  if (contains !== undefined && contains !== null) {
    if (typeof contains !== 'string' || contains.length > 63) {
      throw constraintViolation('nameContains', contains, 'Member must have length less than or equal to 63');
    }
    if (contains.length > 0 && !nameContainsPattern.test(contains)) {
      throw constraintViolation(
        'nameContains',
        contains,
        'Member must satisfy regular expression pattern: [a-zA-Z0-9-]+',
      );
    }
  }
  const status = input.StatusEquals;
  if (status !== undefined && status !== null && rules.statuses && !rules.statuses.includes(String(status))) {
    throw constraintViolation(
      'statusEquals',
      status,
      `Member must satisfy enum value set: [${rules.statuses.join(', ')}]`,
    );
  }
  const createdBefore = timestamp(input.CreationTimeBefore);
  const createdAfter = timestamp(input.CreationTimeAfter);
  const modifiedBefore = timestamp(input.LastModifiedTimeBefore);
  const modifiedAfter = timestamp(input.LastModifiedTimeAfter);
  const needle = typeof contains === 'string' ? contains.toLowerCase() : '';
  const kept = items.filter((item) => {
    const modified = item.lastModifiedTime ?? item.creationTime;
    return (
      item.name.toLowerCase().includes(needle) &&
      (status === undefined || status === null || item.status === status) &&
      // The reference: "created before" is strict; "creation time greater than or equal to" for After.
      (createdBefore === undefined || item.creationTime < createdBefore) &&
      (createdAfter === undefined || item.creationTime >= createdAfter) &&
      (modifiedBefore === undefined || modified < modifiedBefore) &&
      (modifiedAfter === undefined || modified > modifiedAfter)
    );
  });
  const direction = sortOrder === 'Ascending' ? 1 : -1;
  const key = (item: T): string | number =>
    sortBy === 'Name' ? item.name : sortBy === 'Status' ? (item.status ?? '') : item.creationTime;
  // Array.prototype.sort is stable: equal keys keep creation order, then the direction applies.
  return kept
    .map((item, index) => ({ item, index }))
    .sort((left, right) => {
      const a = key(left.item);
      const b = key(right.item);
      const compared = a < b ? -1 : a > b ? 1 : left.index - right.index;
      return direction * compared;
    })
    .map(({ item }) => item);
}

/** A timestamp filter in epoch ms, rounded: epoch seconds with a fraction do not convert exactly. */
function timestamp(value: unknown): number | undefined {
  const milliseconds = fromEpochSeconds(value);
  return milliseconds === undefined ? undefined : Math.round(milliseconds);
}

/** `MaxResults` of SageMaker's List* operations: an integer from 1 to 100 when given. */
export function requireMaxResults(value: unknown): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    // A JSON value of the wrong type fails deserialization before validation (message in AWS's style).
    throw new AwsServiceError(
      'SerializationException',
      `Cannot deserialize ${JSON.stringify(value)} at 'MaxResults' as an integer.`,
    );
  }
  if (value < 1)
    throw constraintViolation('maxResults', value, 'Member must have value greater than or equal to 1');
  if (value > 100)
    throw constraintViolation('maxResults', value, 'Member must have value less than or equal to 100');
}
