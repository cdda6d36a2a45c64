import { Server, ServerCredentials } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { DeletionService } from '../../app/deletion-service.js';
import { DeletionServiceService } from '../../gen/deletion/v1/deletion_service.js';
import { descriptorSetBase64 } from '../../gen/descriptor-set.js';
import { createDeletionHandlers } from './deletion-handlers.js';
import { tolerantDecoding } from './malformed-request.js';
import { createDescriptorIndex } from './reflection/descriptor-index.js';
import { addReflection } from './reflection/reflection-service.js';
import type { HandlerDeps } from './unary.js';
import { rpcServices } from '../../telemetry/catalogue.js';

/** The fully-qualified name health checks use for the service. */
export const DELETION_SERVICE_NAME = rpcServices.deletion;

/** A gRPC server with the DeletionService, health checking and (optionally) reflection. */
export interface GrpcServer {
  readonly server: Server;
  readonly health: HealthImplementation;
  /** Binds and starts serving; resolves to the bound port. */
  listen(host: string, port: number): Promise<number>;
  /**
   * Whether what the service needs (its database) answers: health says
   * SERVING only while it does, the server listens and is not closing.
   */
  setReady(ready: boolean): void;
  /** Reports NOT_SERVING, then shuts down gracefully (forcefully after `graceMs`). */
  close(graceMs?: number): Promise<void>;
}

/**
 * Limits of every connection: messages in and out (larger ones get
 * RESOURCE_EXHAUSTED), concurrent streams, HTTP/2 session memory (grpc-js
 * refuses new streams beyond it), keepalive, and idle connections closed.
 */
const SERVER_OPTIONS = {
  'grpc.max_receive_message_length': 1024 * 1024,
  'grpc.max_send_message_length': 4 * 1024 * 1024,
  'grpc.max_concurrent_streams': 256,
  'grpc-node.max_session_memory': 32,
  'grpc.keepalive_time_ms': 60_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.max_connection_idle_ms': 300_000,
};

/** Builds the gRPC server over the domain service. */
export const createGrpcServer = (
  service: DeletionService,
  deps: HandlerDeps & {
    readonly reflection: boolean;
    /** How it binds (TLS, mutual TLS); default plaintext. */
    readonly credentials?: ServerCredentials;
  },
): GrpcServer => {
  const server = new Server(SERVER_OPTIONS);
  server.addService(
    tolerantDecoding(DeletionServiceService),
    createDeletionHandlers(service, deps),
  );
  const health = new HealthImplementation({
    '': 'NOT_SERVING',
    [DELETION_SERVICE_NAME]: 'NOT_SERVING',
  });
  health.addToServer(server);
  if (deps.reflection) {
    addReflection(
      server,
      createDescriptorIndex(Buffer.from(descriptorSetBase64, 'base64'), {
        // What this port serves (not the participant contract, which linked services serve).
        services: [
          DELETION_SERVICE_NAME,
          'grpc.health.v1.Health',
          'grpc.reflection.v1.ServerReflection',
          'grpc.reflection.v1alpha.ServerReflection',
        ],
        companions: ['google/rpc/error_details.proto'],
      }),
    );
  }
  const state = { listening: false, ready: true, closing: false };
  const report = () => {
    const value = state.listening && state.ready && !state.closing ? 'SERVING' : 'NOT_SERVING';
    health.setStatus('', value);
    health.setStatus(DELETION_SERVICE_NAME, value);
  };
  return {
    server,
    health,
    listen: (host, port) =>
      new Promise((resolve, reject) => {
        const credentials = deps.credentials ?? ServerCredentials.createInsecure();
        server.bindAsync(`${host}:${port}`, credentials, (error, bound) => {
          if (error) reject(error);
          else {
            state.listening = true;
            report();
            resolve(bound);
          }
        });
      }),
    setReady: (ready) => {
      state.ready = ready;
      report();
    },
    close: (graceMs = 5000) =>
      new Promise((resolve) => {
        state.closing = true;
        report();
        const timer = setTimeout(() => server.forceShutdown(), graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
};
