// The participant conformance kit as a library (the CLI is the package's bin).
export * from './check-participant.js';
