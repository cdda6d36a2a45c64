import type {
  EraseAnswer,
  EraseCall,
  Participants,
  RecentCalls,
} from '../../../src/app/ports/participants.js';
import { DomainError } from '../../../src/domain/domain-error.js';
import type { ParticipantSpec } from '../../../src/domain/erasure-steps.js';
import type { SubjectId } from '../../../src/domain/ids.js';

/** A failed call to a linked service as the real adapter reports it (`retryable` in its metadata). */
export const participantFailure = (reason: string, retryable: boolean): DomainError =>
  new DomainError({
    code: reason === 'DEADLINE_EXCEEDED' ? 'DEADLINE_EXCEEDED' : 'UNAVAILABLE',
    reason,
    message: `linked service call failed: ${reason}`,
    metadata: { retryable: String(retryable) },
  });

/** One call a linked service received, with the subject id it was given. */
export interface ParticipantCall {
  readonly name: string;
  readonly phase: 'suspend' | 'restore' | 'erase';
  readonly deletionRequestId: string;
  readonly subjectId: string;
}

/** What a fake linked service does when called: answers, or fails with the error. */
export type EraseBehaviour = EraseAnswer | DomainError;

/** Linked services in memory: each answers as the test says, and every call is kept. */
export interface FakeParticipants extends Participants {
  readonly calls: readonly ParticipantCall[];
  /** How `name` answers Erase from now on (default: NOTHING_FOUND). */
  answerErase(name: string, behaviour: EraseBehaviour): void;
  /** How `name` answers Suspend and Restore from now on: null acknowledges (the default). */
  failNotify(name: string, error: DomainError | null): void;
  /** What `recentCalls(name)` answers from now on (default: no calls in a 15-minute window). */
  seeRecentCalls(name: string, recent: RecentCalls): void;
}

/** A recent window without calls. */
export const NO_RECENT_CALLS: RecentCalls = {
  windowMs: 15 * 60_000,
  calls: 0,
  failures: 0,
  p50Ms: null,
  p95Ms: null,
};

/** A linked service's registration with the defaults of configuration. */
export const participantSpec = (
  name: string,
  overrides: Partial<ParticipantSpec> = {},
): ParticipantSpec => ({
  name,
  phases: ['suspend', 'restore', 'erase'],
  after: [],
  maxAttempts: 8,
  identity: name,
  subjectId: 'real',
  ...overrides,
});

/**
 * Fake linked services for `specs`. A service registered with `subjectId:
 * 'pseudonym'` is given the subject's pseudonym; a name not registered fails
 * like the real adapter (UNAVAILABLE `UNKNOWN_PARTICIPANT`, not retryable).
 */
export const fakeParticipants = (
  specs: readonly ParticipantSpec[] = [],
  pseudonymOf: (subjectId: SubjectId) => string = (subjectId) => `psn_${subjectId}`,
): FakeParticipants => {
  const calls: ParticipantCall[] = [];
  const erasing = new Map<string, EraseBehaviour>();
  const notifying = new Map<string, DomainError | null>();
  const seen = new Map<string, RecentCalls>();
  const specOf = (name: string): ParticipantSpec | undefined =>
    specs.find((spec) => spec.name === name);
  const subjectIdFor = (name: string, subjectId: SubjectId): string =>
    specOf(name)?.subjectId === 'pseudonym' ? pseudonymOf(subjectId) : subjectId;
  const record = (
    name: string,
    phase: ParticipantCall['phase'],
    call: Omit<EraseCall, 'finalAnswerDeadline'>,
  ): void => {
    calls.push({
      name,
      phase,
      deletionRequestId: call.deletionRequestId,
      subjectId: subjectIdFor(name, call.subjectId),
    });
  };
  return {
    specs,
    calls,
    answerErase: (name, behaviour) => {
      erasing.set(name, behaviour);
    },
    failNotify: (name, error) => {
      notifying.set(name, error);
    },
    seeRecentCalls: (name, recent) => {
      seen.set(name, recent);
    },
    recentCalls: (name) => seen.get(name) ?? NO_RECENT_CALLS,
    subjectIdFor,
    erase: (name, call) => {
      if (specOf(name) === undefined)
        return Promise.reject(participantFailure('UNKNOWN_PARTICIPANT', false));
      record(name, 'erase', call);
      const behaviour = erasing.get(name) ?? { outcome: { kind: 'NOTHING_FOUND' } };
      return behaviour instanceof DomainError
        ? Promise.reject(behaviour)
        : Promise.resolve(behaviour);
    },
    notify: (name, phase, call) => {
      if (specOf(name) === undefined)
        return Promise.reject(participantFailure('UNKNOWN_PARTICIPANT', false));
      record(name, phase, call);
      const error = notifying.get(name) ?? null;
      return error === null ? Promise.resolve() : Promise.reject(error);
    },
  };
};
