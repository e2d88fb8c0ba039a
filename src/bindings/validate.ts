/** Page size of the infinite and paginated topics when none is given (the server's `history` default). */
export const DEFAULT_PAGE_SIZE = 50;

/** Throws a `TypeError` unless `topic` is a non-empty string. */
export function validateTopic(topic: unknown): string {
  if (typeof topic !== 'string' || topic.length === 0) throw new TypeError('"topic" must be a non-empty string');
  return topic;
}

/** Throws a `TypeError` unless `since` is undefined or a non-negative integer. */
export function validateSince(since: unknown): number | undefined {
  if (since === undefined) return undefined;
  if (typeof since !== 'number' || !Number.isSafeInteger(since) || since < 0) {
    throw new TypeError('"since" must be a non-negative integer');
  }
  return since;
}

/** Throws a `TypeError` unless `pageSize` is undefined (the default) or a positive integer. */
export function validatePageSize(pageSize: unknown): number {
  if (pageSize === undefined) return DEFAULT_PAGE_SIZE;
  if (typeof pageSize !== 'number' || !Number.isSafeInteger(pageSize) || pageSize < 1) {
    throw new TypeError('"pageSize" must be a positive integer');
  }
  return pageSize;
}
