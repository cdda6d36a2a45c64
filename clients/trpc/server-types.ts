// The types the tRPC client takes from the server: the router (end-to-end types) and the
// views it answers with. Types only: no server code reaches a tool. The package's build
// emits their declarations (and those of every type they reach) into dist/server-types,
// which is what `#router` resolves to for a consumer of the published package.
export type { DeletionRouter } from '../../src/transports/trpc/router.js';
export type { DeletionErrorData } from '../../src/transports/trpc/trpc-errors.js';
export type {
  DeletionEventView,
  DeletionRequestView,
} from '../../src/transports/trpc/deletion-view.js';
