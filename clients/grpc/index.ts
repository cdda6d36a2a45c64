// The gRPC client of deletion.v1.DeletionService; its generated messages are at ./gen/*.js.
export * from './deletion-client.js';
export * from './rich-error.js';
