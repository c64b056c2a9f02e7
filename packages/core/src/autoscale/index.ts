export * from './target-tracking.js';
