export * from './describe-backend-conformance.js';
