import { type TrainingJobSpec, trainingJobSpecSchema } from '@mlscale/core';
import { describe, expect, it } from 'vitest';
import {
  containerEnvironment,
  hyperparameterVariableSuffix,
  jobTopology,
  placements,
} from './container-environment.js';
import { jobPaths } from './job-paths.js';

const spec = (extra: Record<string, unknown> = {}): TrainingJobSpec =>
  trainingJobSpecSchema.parse({ name: 'env-job', command: ['node', 'train.js'], ...extra });

describe('containerEnvironment', () => {
  it('places processesPerNode × nodes ranks, node-major, as torchrun numbers them', () => {
    const topology = jobTopology(spec({ distribution: { processesPerNode: 3, nodes: 2 } }));
    expect(
      placements(topology).map((placement) => [placement.rank, placement.node, placement.localRank]),
    ).toEqual([
      [0, 0, 0],
      [1, 0, 1],
      [2, 0, 2],
      [3, 1, 0],
      [4, 1, 1],
      [5, 1, 2],
    ]);
    // Without distribution: one process per instance, as SageMaker runs the script on each host.
    expect(jobTopology(spec({ resources: { instanceCount: 2 } }))).toEqual({
      nodes: 2,
      processesPerNode: 1,
      distributed: false,
    });
  });

  it('keeps the contract over inherited and user variables', () => {
    const job = spec({ environment: { SM_MODEL_DIR: '/elsewhere', USER_SETTING: 'kept' } });
    const environment = containerEnvironment({
      spec: job,
      paths: jobPaths('/state', 'env-job'),
      topology: jobTopology(job),
      placement: { node: 0, localRank: 0, rank: 0 },
      masterPort: 29_500,
      restartCount: 0,
      inherited: { PATH: '/usr/bin', RANK: '7', SM_CHANNEL_OLD: '/old', HOME: '/root' },
    });
    expect(environment.SM_MODEL_DIR).toBe('/state/jobs/env-job/model');
    expect(environment.USER_SETTING).toBe('kept');
    expect(environment.PATH).toBe('/usr/bin');
    // A job started from inside another job does not inherit its parent's rank or channels.
    expect(environment.RANK).toBeUndefined();
    expect(environment.SM_CHANNEL_OLD).toBeUndefined();
  });

  it('names hyperparameter variables as the toolkit does, with unusable characters replaced', () => {
    expect(hyperparameterVariableSuffix('learning-rate')).toBe('LEARNING_RATE');
    expect(hyperparameterVariableSuffix('batch_size')).toBe('BATCH_SIZE');
    expect(hyperparameterVariableSuffix('a.b=c')).toBe('A_B_C');
  });
});
