import { grpcCodeName } from '../../clients/grpc/rich-error.js';
import {
  createDeletionClient,
  isDeletionClientError,
  type DeletionRequestView,
} from '../../clients/trpc/deletion-client.js';
import {
  Actor_Kind,
  DeletionRequest_State,
  type DeletionRequest,
} from '../../clients/grpc/gen/deletion/v1/deletion_request.js';
import { CallError } from './grpc-test-client.js';
import type { TestApp } from './test-app.js';

/** The two ways in: `clients/grpc` and `clients/trpc`. */
export type Transport = 'grpc' | 'trpc';

/** A deletion request as a scenario checks it, whichever transport read it. */
export interface Resource {
  readonly name: string;
  readonly state: string;
  readonly subjectId: string;
  readonly etag: string;
  readonly riskReasons: readonly string[];
  readonly reviewer: { readonly kind: string; readonly id: string } | null;
  readonly reviewNote: string;
  readonly createTime: number;
  readonly legalDeadline: number;
  readonly deleteTime: number | null;
  readonly purgeTime: number | null;
  readonly completeTime: number | null;
  /** The trace the request was made in. */
  readonly createTraceId: string;
  /** The one extension of the deadline: the deadline before, the reason, who. */
  readonly deadlineExtension: {
    readonly previousDeadline: number;
    readonly reason: string;
    readonly actorId: string;
  } | null;
  /** The notices the subject was sent: `<kind> <outcome> <channel>`. */
  readonly sentNotices: readonly string[];
  /** Each state change, with the trace it happened in. */
  readonly history: readonly {
    readonly from: string;
    readonly to: string;
    readonly traceId: string;
  }[];
}

/** A refused call, whichever transport refused it: the canonical code name and the reason. */
export class ScenarioError extends Error {
  constructor(
    readonly status: string,
    readonly reason: string,
    readonly metadata: Readonly<Record<string, string>>,
    /** Invalid fields, camelCase. */
    readonly fields: readonly string[],
  ) {
    super(`${status} ${reason}`);
  }
}

interface Auth {
  readonly token: string;
}

/** The lifecycle operations, the same for both transports. */
export interface ScenarioClient {
  readonly transport: Transport;
  readonly request: (
    input: { subjectId: string; reason?: string; requestId?: string },
    auth: Auth,
  ) => Promise<Resource>;
  readonly confirm: (input: { name: string; code: string }, auth: Auth) => Promise<Resource>;
  readonly approve: (input: { name: string; etag?: string }, auth: Auth) => Promise<Resource>;
  readonly reject: (
    input: { name: string; reason: string; etag?: string },
    auth: Auth,
  ) => Promise<Resource>;
  readonly extend: (
    input: { name: string; reason: string; etag?: string },
    auth: Auth,
  ) => Promise<Resource>;
  readonly cancel: (input: { name: string; etag?: string }, auth: Auth) => Promise<Resource>;
  readonly undelete: (input: { name: string; etag?: string }, auth: Auth) => Promise<Resource>;
  readonly get: (input: { name: string }, auth: Auth) => Promise<Resource>;
  readonly list: (
    input: { subjectId?: string; pageSize?: number; pageToken?: string },
    auth: Auth,
  ) => Promise<{ readonly names: readonly string[]; readonly nextPageToken: string }>;
}

/** Awaits a call that must fail and returns its ScenarioError. */
export const refusal = async (promise: Promise<unknown>): Promise<ScenarioError> => {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ScenarioError) return error;
    throw error;
  }
  throw new Error('expected the call to fail, it succeeded');
};

const ms = (value: Date | string | null | undefined): number | null =>
  value === null || value === undefined ? null : new Date(value).getTime();

const stateName = (state: DeletionRequest_State): string =>
  DeletionRequest_State[state].replace(/^STATE_/, '');

const fromProto = (request: DeletionRequest): Resource => ({
  name: request.name,
  state: stateName(request.state),
  subjectId: request.subjectId,
  etag: request.etag,
  riskReasons: request.riskReasons,
  reviewer: request.reviewer
    ? { kind: Actor_Kind[request.reviewer.kind].replace(/^KIND_/, ''), id: request.reviewer.id }
    : null,
  reviewNote: request.reviewNote,
  createTime: ms(request.createTime) ?? 0,
  legalDeadline: ms(request.legalDeadline) ?? 0,
  deleteTime: ms(request.deleteTime),
  purgeTime: ms(request.purgeTime),
  completeTime: ms(request.completeTime),
  createTraceId: request.createTraceId,
  deadlineExtension: request.deadlineExtension
    ? {
        previousDeadline: ms(request.deadlineExtension.previousDeadline) ?? 0,
        reason: request.deadlineExtension.reason,
        actorId: request.deadlineExtension.actor?.id ?? '',
      }
    : null,
  sentNotices: request.sentNotices.map((sent) => [sent.kind, sent.outcome, sent.channel].join(' ')),
  history: request.history.map((change) => ({
    from: stateName(change.fromState),
    to: stateName(change.toState),
    traceId: change.traceId,
  })),
});

const fromView = (view: DeletionRequestView): Resource => ({
  name: view.name,
  state: view.state,
  subjectId: view.subjectId,
  etag: view.etag,
  riskReasons: view.riskReasons,
  reviewer: view.reviewer,
  reviewNote: view.reviewNote ?? '',
  createTime: ms(view.createTime) ?? 0,
  legalDeadline: ms(view.legalDeadline) ?? 0,
  deleteTime: ms(view.deleteTime),
  purgeTime: ms(view.purgeTime),
  completeTime: ms(view.completeTime),
  createTraceId: view.createTraceId,
  deadlineExtension: view.deadlineExtension && {
    previousDeadline: ms(view.deadlineExtension.previousDeadline) ?? 0,
    reason: view.deadlineExtension.reason,
    actorId: view.deadlineExtension.actor.id,
  },
  sentNotices: view.sentNotices.map((sent) =>
    [sent.kind, sent.outcome, sent.channel ?? ''].join(' '),
  ),
  history: view.history.map((change) => ({
    from: change.fromState,
    to: change.toState,
    traceId: change.traceId,
  })),
});

const camelCase = (field: string): string =>
  field.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());

const grpcClient = (t: TestApp): ScenarioClient => {
  const call = async <T>(work: Promise<T>): Promise<T> =>
    work.catch((error: unknown) => {
      if (!(error instanceof CallError)) throw error;
      throw new ScenarioError(
        grpcCodeName(error.code),
        error.reason,
        error.rich?.metadata ?? {},
        error.rich?.fieldViolations.map((violation) => camelCase(violation.field)) ?? [],
      );
    });
  const { client } = t;
  return {
    transport: 'grpc',
    request: async (input, auth) => fromProto(await call(client.requestDeletion(input, auth))),
    confirm: async (input, auth) => fromProto(await call(client.confirmDeletion(input, auth))),
    approve: async (input, auth) => fromProto(await call(client.approveDeletion(input, auth))),
    reject: async (input, auth) => fromProto(await call(client.rejectDeletion(input, auth))),
    extend: async (input, auth) => fromProto(await call(client.extendDeadline(input, auth))),
    cancel: async (input, auth) => fromProto(await call(client.cancelDeletion(input, auth))),
    undelete: async (input, auth) =>
      fromProto(await call(client.undeleteDeletionRequest(input, auth))),
    get: async (input, auth) => fromProto(await call(client.getDeletionRequest(input, auth))),
    list: async (input, auth) => {
      const page = await call(client.listDeletionRequests(input, auth));
      return {
        names: page.deletionRequests.map((request) => request.name),
        nextPageToken: page.nextPageToken,
      };
    },
  };
};

const trpcClient = (t: TestApp): ScenarioClient => {
  const as = (auth: Auth) => createDeletionClient({ url: t.trpcUrl, token: auth.token });
  const call = async <T>(work: Promise<T>): Promise<T> =>
    work.catch((error: unknown) => {
      if (!isDeletionClientError(error) || !error.data) throw error;
      const { data } = error;
      throw new ScenarioError(
        data.status,
        data.reason,
        data.metadata,
        Object.keys(data.fieldErrors),
      );
    });
  return {
    transport: 'trpc',
    request: async (input, auth) => fromView(await call(as(auth).requestDeletion.mutate(input))),
    confirm: async (input, auth) => fromView(await call(as(auth).confirmDeletion.mutate(input))),
    approve: async (input, auth) => fromView(await call(as(auth).approveDeletion.mutate(input))),
    reject: async (input, auth) => fromView(await call(as(auth).rejectDeletion.mutate(input))),
    extend: async (input, auth) => fromView(await call(as(auth).extendDeadline.mutate(input))),
    cancel: async (input, auth) => fromView(await call(as(auth).cancelDeletion.mutate(input))),
    undelete: async (input, auth) =>
      fromView(await call(as(auth).undeleteDeletionRequest.mutate(input))),
    get: async (input, auth) => fromView(await call(as(auth).getDeletionRequest.query(input))),
    list: async (input, auth) => {
      const page = await call(as(auth).listDeletionRequests.query(input));
      return {
        names: page.deletionRequests.map((request) => request.name),
        nextPageToken: page.nextPageToken,
      };
    },
  };
};

/** The scenario client of one transport, against a running test service. */
export const scenarioClient = (transport: Transport, t: TestApp): ScenarioClient =>
  transport === 'grpc' ? grpcClient(t) : trpcClient(t);
