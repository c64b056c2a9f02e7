export * from './audit.js';
export * from './capability-check.js';
export * from './create-mlscale.js';
export * from './deployment-change.js';
export * from './events.js';
export * from './logger.js';
