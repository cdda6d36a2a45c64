// A linked service's ErasureParticipantService from three async functions; messages at ./gen/*.js.
export * from './create-participant-server.js';
