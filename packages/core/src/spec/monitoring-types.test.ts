import { describe, expectTypeOf, it } from 'vitest';
import type { AlertRule, MetricName, MetricQuery, NormalizedMetricName } from './monitoring.js';

// Checked by `pnpm typecheck` (this file is in the compiled sources): editors offer the names.
describe('metric names in the types', () => {
  it('offer the normalized names, and still take a job metric name', () => {
    expectTypeOf<MetricQuery['names'][number]>().toEqualTypeOf<MetricName>();
    expectTypeOf<AlertRule['metric']>().toEqualTypeOf<MetricName>();
    expectTypeOf<'latencyP99'>().toExtend<MetricName>();
    expectTypeOf<'train:loss'>().toExtend<MetricName>();
    expectTypeOf<NormalizedMetricName>().toExtend<MetricName>();
  });
});
