/**
 * The subset of the AIP-160 list filter the adapter and common scripts use: clauses joined by `AND`,
 * each `labels.KEY="VALUE"`, `labels.KEY:*`, `display_name="VALUE"` or `state="VALUE"` (quotes
 * optional). Anything else is an INVALID_ARGUMENT, as on the real service.
 */
export interface FilterClause {
  field: string;
  value: string | undefined;
}

export function parseFilter(filter: string | undefined | null): FilterClause[] | Error {
  if (!filter?.trim()) return [];
  const clauses: FilterClause[] = [];
  for (const part of filter.split(/\s+AND\s+/i)) {
    const match = /^\s*([A-Za-z_][\w.-]*)\s*(=|:)\s*(?:"([^"]*)"|([^\s"]+))\s*$/.exec(part);
    if (!match) return new Error(`Unsupported filter clause "${part.trim()}".`);
    const [, field, operator, quoted, bare] = match;
    const value = quoted ?? bare;
    clauses.push({ field: field!, value: operator === ':' && value === '*' ? undefined : value });
  }
  return clauses;
}

/** Whether a resource with these fields matches every clause. */
export function matchesFilter(
  clauses: FilterClause[],
  resource: { labels?: Record<string, string> | null; displayName?: string | null; state?: string | null },
): boolean {
  return clauses.every((clause) => {
    if (clause.field.startsWith('labels.')) {
      const key = clause.field.slice('labels.'.length);
      const value = resource.labels?.[key];
      return clause.value === undefined ? value !== undefined : value === clause.value;
    }
    if (clause.field === 'display_name' || clause.field === 'displayName') {
      return resource.displayName === clause.value;
    }
    if (clause.field === 'state') return resource.state === clause.value;
    return false;
  });
}
