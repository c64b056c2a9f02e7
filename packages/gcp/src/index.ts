export * from './adapter/index.js';
