export * from './compare-signatures.js';
export * from './model-signature.js';
