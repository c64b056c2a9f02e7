export * from './state-document.js';
export * from './state-store.js';
