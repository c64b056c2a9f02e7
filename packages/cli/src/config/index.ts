export * from './config-schema.js';
export * from './define-config.js';
export * from './load-config.js';
export * from './read-config-file.js';
