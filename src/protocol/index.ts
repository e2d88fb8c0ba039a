export * from './version.js';
export * from './close-codes.js';
export * from './error-codes.js';
export type * from './messages.js';
export type * from './host-api.js';
export * from './parse.js';
export * from './host-discovery.js';
export * from './topic-name.js';
