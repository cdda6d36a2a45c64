import type { RequestListener } from 'node:http';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import type { Logger } from 'pino';
import type { DeletionService } from '../../app/deletion-service.js';
import type { Authenticator } from '../../auth/authenticator.js';
import { DomainError } from '../../domain/domain-error.js';
import type { Principal } from '../../domain/principal.js';
import { createDeletionRouter, type RouterOptions, type TrpcContext } from './router.js';
import { retryAfterOf } from './trpc-errors.js';
import { consoleCredentials, header, type ConsoleOptions } from '../http/console-routes.js';

/** Where tRPC is served on the HTTP server. */
export const TRPC_BASE_PATH = '/trpc/';

/** What the handler needs besides the service. */
export interface TrpcHandlerDeps {
  readonly authenticate: Authenticator;
  /** The console's sessions: a call from the console with no credentials of its own uses its session's. */
  readonly console?: Pick<ConsoleOptions, 'sessions' | 'now' | 'secureAlways'>;
  readonly logger: Logger;
  readonly router: RouterOptions;
}

/**
 * The tRPC router behind the standalone adapter, for `/trpc/*` of the HTTP
 * server: credentials from the `authorization` or `x-api-key` header (or,
 * for a call of the console that has neither, its session cookie), batches
 * of at most 50 calls, bodies of at most 1 MiB. A rate-limited call answers
 * TOO_MANY_REQUESTS with `Retry-After`. Failures are logged by procedure,
 * code and reason only.
 */
export const createTrpcHandler = (
  service: DeletionService,
  deps: TrpcHandlerDeps,
): RequestListener =>
  createHTTPHandler({
    router: createDeletionRouter(service, deps.router),
    basePath: TRPC_BASE_PATH,
    maxBatchSize: 50,
    maxBodySize: 1024 * 1024,
    responseMeta: ({ errors }) => {
      const retryAfter = retryAfterOf(errors);
      return retryAfter === undefined ? {} : { headers: { 'retry-after': retryAfter } };
    },
    createContext: ({ req }): TrpcContext => {
      let principal: Promise<Principal> | undefined;
      const authorization = header(req, 'authorization');
      const apiKey = header(req, 'x-api-key');
      const own = { authorization, apiKey, peer: req.socket.remoteAddress };
      // A call of the console with no credentials of its own uses its session's.
      const credentials = async () =>
        authorization === undefined && apiKey === undefined && deps.console !== undefined
          ? ((await consoleCredentials(req, deps.console)) ?? own)
          : own;
      return {
        principal: () => (principal ??= credentials().then(deps.authenticate)),
        traceHeaders: {
          traceparent: header(req, 'traceparent'),
          tracestate: header(req, 'tracestate'),
        },
      };
    },
    onError: ({ error, path }) => {
      const cause = DomainError.is(error.cause) ? error.cause : undefined;
      const entry = {
        procedure: path,
        code: error.code,
        reason: cause?.reason,
        cause: ((cause?.cause ?? error.cause) as Error | undefined)?.name,
      };
      if (error.code === 'INTERNAL_SERVER_ERROR') deps.logger.error(entry, 'trpc call failed');
      else deps.logger.debug(entry, 'trpc call refused');
    },
  });
