export * from './in-memory-backend.js';
