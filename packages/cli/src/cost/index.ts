export * from './estimate-cost.js';
export * from './price-table.js';
