export * from './apply-plan.js';
export * from './compute-plan.js';
export * from './spec-diff.js';
