export * from './seal-secrets.js';
export * from './secret-patterns.js';
