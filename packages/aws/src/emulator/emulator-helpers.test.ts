import { describe, expect, it } from 'vitest';
import { statistic } from './cloudwatch-service.js';
import { matchesFilterPattern } from './logs-service.js';
import { paginate } from './pagination.js';
import { createScheduler } from './scheduler.js';

describe('emulator helpers', () => {
  it('computes CloudWatch statistics, percentiles by nearest rank', () => {
    const values = [5, 1, 4, 2, 3, 10, 7, 8, 6, 9];
    expect(statistic(values, 'Sum')).toBe(55);
    expect(statistic(values, 'Average')).toBe(5.5);
    expect(statistic(values, 'SampleCount')).toBe(10);
    expect(statistic(values, 'p50')).toBe(5);
    expect(statistic(values, 'p90')).toBe(9);
    expect(statistic(values, 'p99.9')).toBe(10);
    expect(statistic([], 'Sum')).toBeUndefined();
    expect(() => statistic(values, 'Median')).toThrow('Stat is not valid');
  });

  it('matches CloudWatch Logs filter patterns: phrases, all terms, any of ?terms, -exclusions', () => {
    expect(matchesFilterPattern('POST /invocations 400 1ms', '"POST /invocations 400"')).toBe(true);
    expect(matchesFilterPattern('POST /invocations 200 1ms', '"POST /invocations 400"')).toBe(false);
    expect(matchesFilterPattern('error in epoch 3', 'error epoch')).toBe(true);
    expect(matchesFilterPattern('error in step 3', 'error epoch')).toBe(false);
    expect(matchesFilterPattern('WARN disk', '?ERROR ?WARN')).toBe(true);
    expect(matchesFilterPattern('INFO ok', '?ERROR ?WARN')).toBe(false);
    expect(matchesFilterPattern('epoch done', 'epoch -debug')).toBe(true);
    expect(matchesFilterPattern('epoch debug', 'epoch -debug')).toBe(false);
    expect(matchesFilterPattern('anything', undefined)).toBe(true);
  });

  it('pages with opaque tokens and rejects forged ones', () => {
    const first = paginate([1, 2, 3, 4, 5], undefined, 2, 10);
    expect(first.page).toEqual([1, 2]);
    const second = paginate([1, 2, 3, 4, 5], first.nextToken, 2, 10);
    expect(second.page).toEqual([3, 4]);
    expect(paginate([1, 2, 3, 4, 5], second.nextToken, 2, 10)).toEqual({ page: [5] });
    expect(() => paginate([1], 'not-a-number', 2, 10)).toThrow('Invalid pagination token');
  });

  it('runs due tasks in time order, including tasks they schedule', () => {
    let now = 0;
    const scheduler = createScheduler(() => now);
    const ran: string[] = [];
    scheduler.at(20, () => ran.push('b'));
    scheduler.at(10, (time) => {
      ran.push(`a@${time}`);
      scheduler.at(15, () => ran.push('a2'));
    });
    scheduler.at(30, () => ran.push('c'));
    now = 25;
    scheduler.runDue();
    expect(ran).toEqual(['a@10', 'a2', 'b']);
    expect(scheduler.pending()).toBe(1);
  });
});
