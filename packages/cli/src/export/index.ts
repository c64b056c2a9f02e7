export * from './dockerfile.js';
export * from './kubernetes-manifests.js';
export * from './write-export.js';
