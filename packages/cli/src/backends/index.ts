export * from './backend-pool.js';
export * from './resolve-backend.js';
