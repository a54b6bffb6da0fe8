export * from './amount.js';
export * from './charset.js';
