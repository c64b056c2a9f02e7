export * from './config-json-schema.js';
