export * from './in-memory-backend.js';
export * from './memory-cloud.js';
