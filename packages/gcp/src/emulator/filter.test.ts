import { describe, expect, it } from 'vitest';
import { matchesFilter, parseFilter } from './filter.js';

describe('list filters', () => {
  it('matches labels, display names and presence', () => {
    const clauses = parseFilter('labels.team="vision" AND display_name=demo AND labels.env:*');
    expect(clauses).not.toBeInstanceOf(Error);
    const resource = { labels: { team: 'vision', env: 'prod' }, displayName: 'demo' };
    expect(matchesFilter(clauses as never, resource)).toBe(true);
    expect(matchesFilter(clauses as never, { ...resource, labels: { team: 'vision' } })).toBe(false);
    expect(parseFilter('labels.team != "x" OR y')).toBeInstanceOf(Error);
  });
});
