// The tRPC client of the account deletion service, with the router's types.
export * from './deletion-client.js';
