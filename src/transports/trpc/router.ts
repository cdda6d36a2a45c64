import { initTRPC, tracked, TRPCError } from '@trpc/server';
import { z } from 'zod';
import type {
  DeletionService,
  InputOf,
  ResultOf,
  UseCaseName,
} from '../../app/deletion-service.js';
import { operationPolicies } from '../../domain/authorization.js';
import { DomainError, forCaller, isFault } from '../../domain/domain-error.js';
import { serverSpan, type OutcomeOf } from '../../telemetry/rpc-spans.js';
import { errorAttributes } from '../../telemetry/with-span.js';
import type { Principal } from '../../domain/principal.js';
import {
  toAuditPageView,
  toErasedSubjectsView,
  toSafetyView,
  toVerificationView,
} from './admin-view.js';
import { toEventView, toPageView, toView, type DeletionEventView } from './deletion-view.js';
import { formatError, toTRPCError } from './trpc-errors.js';
import { attributeKeys, rpcServices } from '../../telemetry/catalogue.js';

/** What every tRPC call starts with: the caller, authenticated once per HTTP request (a batch shares it). */
export interface TrpcContext {
  readonly principal: () => Promise<Principal>;
  /** The W3C trace context headers of the HTTP request (`traceparent`, `tracestate`). */
  readonly traceHeaders: Readonly<Record<string, string | undefined>>;
}

/** A call's outcome as its span records it: the tRPC code, and the domain code and reason. */
const outcomeOf: OutcomeOf = ({ error }) => {
  if (error === undefined) return { attributes: { [attributeKeys.trpcCode]: 'OK' }, fault: false };
  const code = error instanceof TRPCError ? error.code : 'INTERNAL_SERVER_ERROR';
  const cause = error instanceof TRPCError ? error.cause : error;
  const domain = DomainError.is(cause) ? forCaller(cause) : undefined;
  return {
    attributes: {
      [attributeKeys.trpcCode]: code,
      ...(domain && errorAttributes(domain)),
    },
    fault: code === 'INTERNAL_SERVER_ERROR' || (domain !== undefined && isFault(domain.code)),
  };
};

/**
 * Declares the input type of a procedure and passes the value on as it came:
 * the use case authorizes first and then validates it with its zod schema (the
 * one the gRPC transport uses too), so both transports refuse the same calls
 * the same way.
 */
const typed = <TInput>() => z.custom<TInput>();

/** The fields of a JSON input, whatever was sent: the use case reports what is missing. */
const fieldsOf = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null ? { ...value } : {};

/** A final outcome as JSON carries it: `until` is an RFC 3339 string. */
type WireOutcome =
  | Exclude<InputOf<'reportErasureOutcome'>['outcome'], { kind: 'RETAINED' }>
  | (Omit<Extract<InputOf<'reportErasureOutcome'>['outcome'], { kind: 'RETAINED' }>, 'until'> & {
      readonly until?: string | null;
    });

/** Input of reportErasureOutcome over tRPC. */
export type ReportErasureOutcomeWireInput = Omit<InputOf<'reportErasureOutcome'>, 'outcome'> & {
  readonly outcome: WireOutcome;
};

/** JSON has no dates: a RETAINED outcome's `until` string becomes the Date the use case validates. */
const outcomeFromWire = (outcome: unknown): unknown => {
  const fields = fieldsOf(outcome);
  return fields.kind === 'RETAINED' && typeof fields.until === 'string'
    ? { ...fields, until: new Date(fields.until) }
    : outcome;
};

/** Input of listAuditEvents over tRPC: times are RFC 3339 strings. */
export type ListAuditEventsWireInput = Omit<InputOf<'listAuditEvents'>, 'startTime' | 'endTime'> & {
  readonly startTime?: string;
  readonly endTime?: string;
};

/** A time as JSON carries it → the Date the use case validates (anything else passes on, to be refused). */
const dateFromWire = (value: unknown): unknown =>
  typeof value === 'string' ? new Date(value) : value;

/** Input of watchDeletionRequest; the subscription link sets `lastEventId` when it reconnects. */
export interface WatchDeletionRequestWireInput {
  readonly name: string;
  readonly lastEventId?: string | null;
}

/** How the router serves watches. */
export interface RouterOptions {
  /** How long one watch stream lasts before the server ends it and the client resumes. */
  readonly watchStreamMs: number;
  /** Aborts when the replica shuts down: each watch ends with a RECONNECT event. */
  readonly closing?: AbortSignal | undefined;
}

const RECONNECT: DeletionEventView = { kind: 'RECONNECT', reason: 'SERVER_SHUTTING_DOWN' };

const rootFor = (options: RouterOptions) => {
  const t = initTRPC.context<TrpcContext>().create({
    // Never a stack trace on the wire, whatever NODE_ENV says.
    isDev: false,
    errorFormatter: ({ shape, error }) => formatError({ ...shape, cause: error.cause }),
    sse: {
      ping: { enabled: true, intervalMs: 15_000 },
      // The client reconnects (with a fresh token) and resumes after the last event.
      maxDurationMs: options.watchStreamMs,
      client: { reconnectAfterInactivityMs: 45_000 },
    },
  });
  /**
   * Runs each call in a SERVER span continuing the caller's trace, authenticates,
   * and turns whatever a use case throws into the TRPCError of its DomainError.
   */
  const authed = t.procedure.use(async ({ ctx, next, path }) =>
    serverSpan(
      {
        system: 'trpc',
        service: rpcServices.deletion,
        method: path,
        headers: ctx.traceHeaders,
        outcomeOf,
      },
      async () => {
        const principal = await ctx.principal().catch((error: unknown) => {
          throw toTRPCError(DomainError.from(error));
        });
        const result = await next({ ctx: { principal } });
        if (result.ok) return result;
        const { error } = result;
        if (DomainError.is(error.cause)) throw toTRPCError(error.cause);
        // tRPC's own refusals (a body that is not JSON) keep their code; anything else is a bug.
        if (error.code !== 'INTERNAL_SERVER_ERROR') throw error;
        throw toTRPCError(DomainError.from(error.cause ?? error));
      },
    ),
  );
  return { t, authed };
};

/** A value as JSON carries it: dates become RFC 3339 strings. */
export type Json<T> = T extends Date
  ? string
  : T extends readonly (infer Item)[]
    ? Json<Item>[]
    : T extends object
      ? { [Key in keyof T]: Json<T[Key]> }
      : T;

/** The use cases of the service that no procedure of the router spells out. */
type AsIs<Explicit> = Exclude<UseCaseName, keyof Explicit>;

/**
 * The procedures of the use cases that need no view of their own: a query
 * when the operation reads (its budget is `read`), else a mutation; the input
 * passed on as it came (the use case validates it), the answer as JSON. A new
 * use case is served here without a line in this file.
 */
const servedAsIs = <Explicit extends object>(
  service: DeletionService,
  authed: ReturnType<typeof rootFor>['authed'],
  explicit: Explicit,
) => {
  const call = async <Name extends UseCaseName>(
    name: Name,
    principal: Principal,
    input: InputOf<Name>,
  ): Promise<Json<ResultOf<Name>>> => {
    const useCase = service[name] as (
      principal: Principal,
      input: InputOf<Name>,
    ) => Promise<ResultOf<Name>>;
    return JSON.parse(JSON.stringify(await useCase(principal, input))) as Json<ResultOf<Name>>;
  };
  const query = <Name extends UseCaseName>(name: Name) =>
    authed
      .input(typed<InputOf<Name>>())
      .query(({ ctx, input }) => call(name, ctx.principal, input));
  const mutation = <Name extends UseCaseName>(name: Name) =>
    authed
      .input(typed<InputOf<Name>>())
      .mutation(({ ctx, input }) => call(name, ctx.principal, input));
  type Served = {
    readonly [Name in AsIs<Explicit>]: (typeof operationPolicies)[Name]['rateLimit'] extends 'read'
      ? ReturnType<typeof query<Name>>
      : ReturnType<typeof mutation<Name>>;
  };
  const names = (Object.keys(service) as UseCaseName[]).filter((name) => !(name in explicit));
  return Object.fromEntries(
    names.map((name) => [
      name,
      operationPolicies[name].rateLimit === 'read' ? query(name) : mutation(name),
    ]),
  ) as Served;
};

export const createDeletionRouter = (
  service: DeletionService,
  options: RouterOptions = { watchStreamMs: 10 * 60_000 },
) => {
  const { t, authed } = rootFor(options);
  const explicit = {
    requestDeletion: authed
      .input(typed<InputOf<'requestDeletion'>>())
      .mutation(async ({ ctx, input }) =>
        toView(await service.requestDeletion(ctx.principal, input)),
      ),
    confirmDeletion: authed
      .input(typed<InputOf<'confirmDeletion'>>())
      .mutation(async ({ ctx, input }) =>
        toView(await service.confirmDeletion(ctx.principal, input)),
      ),
    approveDeletion: authed
      .input(typed<InputOf<'approveDeletion'>>())
      .mutation(async ({ ctx, input }) =>
        toView(await service.approveDeletion(ctx.principal, input)),
      ),
    rejectDeletion: authed
      .input(typed<InputOf<'rejectDeletion'>>())
      .mutation(async ({ ctx, input }) =>
        toView(await service.rejectDeletion(ctx.principal, input)),
      ),
    cancelDeletion: authed
      .input(typed<InputOf<'cancelDeletion'>>())
      .mutation(async ({ ctx, input }) =>
        toView(await service.cancelDeletion(ctx.principal, input)),
      ),
    undeleteDeletionRequest: authed
      .input(typed<InputOf<'undeleteDeletionRequest'>>())
      .mutation(async ({ ctx, input }) =>
        toView(await service.undeleteDeletionRequest(ctx.principal, input)),
      ),
    getDeletionRequest: authed
      .input(typed<InputOf<'getDeletionRequest'>>())
      .query(async ({ ctx, input }) =>
        toView(await service.getDeletionRequest(ctx.principal, input)),
      ),
    watchDeletionRequest: authed
      .input(typed<InputOf<'watchDeletionRequest'>>())
      .subscription(async function* ({ ctx, input, signal }) {
        const { lastEventId, ...fields } = fieldsOf(input);
        const gone = signal ?? new AbortController().signal;
        const { closing } = options;
        let cursor = typeof lastEventId === 'string' ? lastEventId : '0';
        try {
          const events = await service.watchDeletionRequest(
            ctx.principal,
            { ...fields, after: lastEventId ?? undefined } as InputOf<'watchDeletionRequest'>,
            closing === undefined ? gone : AbortSignal.any([gone, closing]),
          );
          for await (const event of events) {
            cursor = event.cursor;
            yield tracked(event.cursor, toEventView(event));
          }
        } catch (error) {
          throw toTRPCError(DomainError.from(error));
        }
        if (closing?.aborted !== true || gone.aborted) return;
        // Ended as an abort, not a return: the client's link reconnects after the last event.
        yield tracked(cursor, RECONNECT);
        throw new DOMException('the server is shutting down', 'AbortError');
      }),
    listDeletionRequests: authed
      .input(typed<InputOf<'listDeletionRequests'>>())
      .query(async ({ ctx, input }) => {
        const { deadlineBefore, ...fields } = fieldsOf(input);
        return toPageView(
          await service.listDeletionRequests(ctx.principal, {
            ...fields,
            deadlineBefore: dateFromWire(deadlineBefore),
          } as InputOf<'listDeletionRequests'>),
        );
      }),
    reportErasureOutcome: authed
      .input(typed<InputOf<'reportErasureOutcome'>>())
      .mutation(async ({ ctx, input }) => {
        const { outcome, ...fields } = fieldsOf(input);
        await service.reportErasureOutcome(ctx.principal, {
          ...fields,
          outcome: outcomeFromWire(outcome),
        } as InputOf<'reportErasureOutcome'>);
        return {};
      }),
    retryParticipant: authed
      .input(typed<InputOf<'retryParticipant'>>())
      .mutation(async ({ ctx, input }) =>
        toView(await service.retryParticipant(ctx.principal, input)),
      ),
    extendDeadline: authed
      .input(typed<InputOf<'extendDeadline'>>())
      .mutation(async ({ ctx, input }) =>
        toView(await service.extendDeadline(ctx.principal, input)),
      ),
    resolveParticipant: authed
      .input(typed<InputOf<'resolveParticipant'>>())
      .mutation(async ({ ctx, input }) =>
        toView(await service.resolveParticipant(ctx.principal, input)),
      ),
    getErasureReport: authed
      .input(typed<InputOf<'getErasureReport'>>())
      .query(async ({ ctx, input }) => {
        const report = await service.getErasureReport(ctx.principal, input);
        // The use case has validated the input by now.
        return { name: input.name, ...report };
      }),
    listAuditEvents: authed
      .input(typed<InputOf<'listAuditEvents'>>())
      .query(async ({ ctx, input }) => {
        const { startTime, endTime, ...fields } = fieldsOf(input);
        return toAuditPageView(
          await service.listAuditEvents(ctx.principal, {
            ...fields,
            startTime: dateFromWire(startTime),
            endTime: dateFromWire(endTime),
          } as InputOf<'listAuditEvents'>),
        );
      }),
    verifyAuditLog: authed
      .input(typed<Record<string, never> | undefined>())
      .query(async ({ ctx, input }) =>
        toVerificationView(await service.verifyAuditLog(ctx.principal, input)),
      ),
    getSafetyStatus: authed
      .input(typed<Record<string, never> | undefined>())
      .query(async ({ ctx, input }) =>
        toSafetyView(await service.getSafetyStatus(ctx.principal, input)),
      ),
    resumeErasures: authed
      .input(typed<InputOf<'resumeErasures'>>())
      .mutation(async ({ ctx, input }) =>
        toSafetyView(await service.resumeErasures(ctx.principal, input)),
      ),
    checkErasedSubjects: authed
      .input(typed<InputOf<'checkErasedSubjects'>>())
      .query(async ({ ctx, input }) =>
        toErasedSubjectsView(await service.checkErasedSubjects(ctx.principal, input)),
      ),
  };
  return t.router({ ...explicit, ...servedAsIs(service, authed, explicit) });
};

/** The router's type: what `clients/trpc` imports (as a type only) for end-to-end types. */
export type DeletionRouter = ReturnType<typeof createDeletionRouter>;
