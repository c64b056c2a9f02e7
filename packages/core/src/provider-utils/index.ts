/**
 * The plumbing every backend adapter shares, so each solves these problems once: one cloud call with
 * abort and error classification, pagination, the durable deployment record and its state machine,
 * the status fields it decides, the reconcile step, the memory of secret values, and the refusal of a
 * spec the platform cannot run.
 */
export * from './cloud-call.js';
export * from './deployment-convergence.js';
export * from './deployment-record.js';
export * from './paginate.js';
export * from './reconcile-step.js';
export * from './secret-memory.js';
export * from './spec-refusal.js';
