export * from './backend.js';
export * from './capabilities.js';
export * from './status.js';
