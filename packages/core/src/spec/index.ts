export * from './common.js';
export * from './deployment.js';
export * from './model.js';
export * from './monitoring.js';
export * from './parse.js';
export * from './predict.js';
export * from './training.js';
