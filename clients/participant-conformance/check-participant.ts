import { randomUUID } from 'node:crypto';
import {
  credentials as grpcCredentials,
  Metadata,
  status,
  type ChannelCredentials,
  type ServiceError,
} from '@grpc/grpc-js';
import {
  EraseRequest,
  ErasureParticipantServiceClient,
  RestoreRequest,
  SuspendRequest,
  type EraseResponse,
  type Subject,
} from './gen/deletion/participant/v1/erasure_participant_service.js';

/** The name of a gRPC status code, e.g. DEADLINE_EXCEEDED (the number when unknown). */
const grpcCodeName = (code: number): string =>
  (status as unknown as Readonly<Record<number, string | undefined>>)[code] ?? String(code);

/** Where the linked service is and what the kit may use. */
export interface ConformanceOptions {
  /** `host:port` of the ErasureParticipantService. */
  readonly address: string;
  /** Default: plaintext. */
  readonly credentials?: ChannelCredentials;
  /**
   * A subject the service holds test data for. The kit suspends, restores
   * and erases it. Without one, the idempotency rule runs on an unknown subject.
   */
  readonly subjectWithData?: string;
  /** The deadline of each call (default 5 s); the service must answer within it. */
  readonly timeoutMs?: number;
  /** Metadata sent with every call (e.g. authorization). */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** The verdict on one rule of the contract. */
export interface RuleResult {
  readonly rule: string;
  readonly passed: boolean;
  readonly detail: string;
}

type Outcome = NonNullable<EraseResponse['outcome']>;

class RuleFailure extends Error {}

const fail = (message: string): never => {
  throw new RuleFailure(message);
};

/** The outcome without volatile parts, to compare two answers. */
const describeOutcome = (outcome: EraseResponse['outcome']): string => {
  switch (outcome?.$case) {
    case 'erased':
      return `ERASED(${outcome.value.records}, ${outcome.value.categories.join('+')})`;
    case 'nothingFound':
      return 'NOTHING_FOUND';
    case 'retained':
      return `RETAINED(${outcome.value.legalBasis}, ${outcome.value.categories.join('+')}, erased ${outcome.value.erasedRecords})`;
    case 'accepted':
      return `ACCEPTED(by ${outcome.value.expectedBy?.toISOString() ?? '?'})`;
    case undefined:
      return 'NO_OUTCOME';
  }
};

/** Problems with an answer's shape, or an empty list. */
const shapeProblems = (outcome: Outcome, now: Date): string[] => {
  switch (outcome.$case) {
    case 'erased':
      return Number(outcome.value.records) < 0 ? ['ERASED with a negative record count'] : [];
    case 'nothingFound':
      return [];
    case 'retained':
      return [
        ...(outcome.value.legalBasis.trim() === '' ? ['RETAINED without a legal basis'] : []),
        ...(outcome.value.categories.length === 0 ? ['RETAINED without categories'] : []),
      ];
    case 'accepted': {
      const by = outcome.value.expectedBy;
      return by === undefined || by <= now ? ['ACCEPTED without a future expected_by'] : [];
    }
  }
};

/**
 * Runs the rules of `deletion.participant.v1.ErasureParticipantService`
 * against a running linked service and reports each one: answers echo the
 * subject; a call without one is INVALID_ARGUMENT; an unknown subject is
 * NOTHING_FOUND; Suspend, Restore and Erase are idempotent on the deletion
 * request (sequential and concurrent repeats answer the same); answers come
 * within the deadline, and a call abandoned at its deadline does not break
 * the next one; every outcome is well formed. Never throws for a broken
 * service: a rule fails instead.
 */
export const checkParticipant = async (options: ConformanceOptions): Promise<RuleResult[]> => {
  const timeoutMs = options.timeoutMs ?? 5000;
  const client = new ErasureParticipantServiceClient(
    options.address,
    options.credentials ?? grpcCredentials.createInsecure(),
  );
  const metadata = (): Metadata => {
    const value = new Metadata();
    for (const [key, entry] of Object.entries(options.metadata ?? {})) value.set(key, entry);
    return value;
  };
  const newSubject = (subjectId = `conformance-unknown-${randomUUID()}`): Subject => ({
    deletionRequest: `deletionRequests/conformance-${randomUUID()}`,
    subjectId,
  });
  const unary = <T>(
    method: 'suspend' | 'restore' | 'erase',
    fields: { readonly subject?: Subject },
    deadlineMs = timeoutMs,
  ): Promise<T> =>
    new Promise((resolve, reject) => {
      const options = { deadline: Date.now() + deadlineMs };
      const done = (error: ServiceError | null, response?: unknown) =>
        error ? reject(error) : resolve(response as T);
      if (method === 'erase')
        client.erase(EraseRequest.fromPartial(fields), metadata(), options, done);
      else if (method === 'suspend')
        client.suspend(SuspendRequest.fromPartial(fields), metadata(), options, done);
      else client.restore(RestoreRequest.fromPartial(fields), metadata(), options, done);
    });
  const echoed = (sent: Subject, got: Subject | undefined, method: string): void => {
    if (got?.deletionRequest !== sent.deletionRequest || got.subjectId !== sent.subjectId)
      fail(`${method} did not echo the subject it was asked about`);
  };
  const erase = async (subject: Subject): Promise<Outcome> => {
    const response = await unary<EraseResponse>('erase', { subject });
    echoed(subject, response.subject, 'Erase');
    return response.outcome ?? fail('Erase answered without an outcome');
  };
  const notify = async (method: 'suspend' | 'restore', subject: Subject): Promise<void> => {
    const response = await unary<{ subject?: Subject }>(method, { subject });
    echoed(subject, response.subject, method);
  };
  /** Two answers to the same request agree; an ACCEPTED may since have become final. */
  const sameAnswer = (first: Outcome, again: Outcome): boolean =>
    describeOutcome(first) === describeOutcome(again) ||
    (first.$case === 'accepted' && again.$case !== 'accepted');

  const rules: [string, () => Promise<string>][] = [
    [
      'rejects a call without a subject (INVALID_ARGUMENT)',
      async () => {
        try {
          await unary('erase', {});
        } catch (error) {
          const code = (error as ServiceError).code;
          if (code === status.INVALID_ARGUMENT) return 'INVALID_ARGUMENT';
          return fail(`answered ${grpcCodeName(code)}, not INVALID_ARGUMENT`);
        }
        return fail('answered OK to an Erase without a subject');
      },
    ],
    [
      'answers NOTHING_FOUND for an unknown subject, echoing it',
      async () => {
        const outcome = await erase(newSubject());
        if (outcome.$case !== 'nothingFound')
          fail(`answered ${describeOutcome(outcome)} for a subject it cannot know`);
        return 'NOTHING_FOUND';
      },
    ],
    [
      'Suspend and Restore are idempotent and echo the subject',
      async () => {
        const subject = newSubject(options.subjectWithData);
        await notify('suspend', subject);
        await notify('suspend', subject);
        await notify('restore', subject);
        await notify('restore', subject);
        return 'Suspend ×2, Restore ×2: OK';
      },
    ],
    [
      'Erase is idempotent on the deletion request (repeats answer the same)',
      async () => {
        const subject = newSubject(options.subjectWithData);
        const first = await erase(subject);
        const again = await erase(subject);
        const concurrent = await Promise.all([erase(subject), erase(subject)]);
        const answers = [again, ...concurrent];
        const different = answers.find((answer) => !sameAnswer(first, answer));
        if (different) fail(`first ${describeOutcome(first)}, then ${describeOutcome(different)}`);
        const problems = [first, ...answers].flatMap((answer) => shapeProblems(answer, new Date()));
        if (problems.length > 0) fail(problems.join('; '));
        return `${describeOutcome(first)} ×4${options.subjectWithData ? '' : ' (unknown subject: pass subjectWithData to test real data)'}`;
      },
    ],
    [
      'answers within the deadline, and a call abandoned at its deadline does not break the next',
      async () => {
        const subject = newSubject();
        const started = Date.now();
        await unary('erase', { subject }, 1).catch((error: unknown) => {
          const code = (error as ServiceError).code;
          if (code !== status.DEADLINE_EXCEEDED && code !== status.CANCELLED)
            fail(`a 1 ms call failed with ${grpcCodeName(code)}`);
        });
        const outcome = await erase(subject);
        if (outcome.$case !== 'nothingFound')
          fail(`after an abandoned call: ${describeOutcome(outcome)}, not NOTHING_FOUND`);
        return `retry answered NOTHING_FOUND in ${String(Date.now() - started)} ms`;
      },
    ],
  ];
  const results: RuleResult[] = [];
  try {
    for (const [rule, run] of rules) {
      try {
        results.push({ rule, passed: true, detail: await run() });
      } catch (error) {
        const detail =
          error instanceof RuleFailure
            ? error.message
            : `call failed: ${error instanceof Error ? error.message : String(error)}`;
        results.push({ rule, passed: false, detail });
      }
    }
  } finally {
    client.close();
  }
  return results;
};
