export * from './conformance-cloud.js';
export * from './describe-backend-conformance.js';
