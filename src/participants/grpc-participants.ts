import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type { Clock } from '../app/ports/clock.js';
import type { EraseAnswer, Participants } from '../app/ports/participants.js';
import { finalOutcomeFromProto } from '../codec/erasure-outcome.js';
import { DomainError } from '../domain/domain-error.js';
import { deletionRequestName, type DeletionRequestId, type SubjectId } from '../domain/ids.js';
import {
  EraseRequest,
  RestoreRequest,
  SuspendRequest,
  type Subject,
  ErasureParticipantServiceClient,
  type EraseResponse,
} from '../gen/deletion/participant/v1/erasure_participant_service.js';
import { clientSpan, type OutcomeOf } from '../telemetry/rpc-spans.js';
import { createCallWindow, type CallWindow, type CallWindowOptions } from './call-window.js';
import { participantChannel } from './participant-channel.js';
import type { ParticipantRegistration } from './participant-registration.js';
import { attributeKeys, rpcServices } from '../telemetry/catalogue.js';

/** gRPC codes worth another try later; anything else will fail the same way again. */
const RETRYABLE = new Set<number>([
  status.UNAVAILABLE,
  status.DEADLINE_EXCEEDED,
  status.RESOURCE_EXHAUSTED,
  status.ABORTED,
  status.INTERNAL,
  status.UNKNOWN,
]);

const failed = (reason: string, retryable: boolean, cause?: unknown): DomainError =>
  new DomainError({
    code: reason === 'DEADLINE_EXCEEDED' ? 'DEADLINE_EXCEEDED' : 'UNAVAILABLE',
    reason,
    message: `linked service call failed: ${reason}`,
    metadata: { retryable: String(retryable) },
    cause,
  });

/** The canonical name of a gRPC status code; codes from a future gRPC are UNKNOWN. */
const statusName = (code: number): string => {
  const names: Readonly<Record<number, string | undefined>> = status;
  return names[code] ?? 'UNKNOWN';
};

/** A gRPC failure, classified: the status name is the reason. */
const classify = (error: ServiceError): DomainError =>
  failed(statusName(error.code), RETRYABLE.has(error.code), error);

/** An answer must echo exactly the subject it was asked about. */
const checkEcho = (sent: Subject, echo: Subject | undefined): void => {
  if (echo?.deletionRequest !== sent.deletionRequest || echo.subjectId !== sent.subjectId) {
    throw failed('ANSWER_MISMATCH', false);
  }
};

/** Turns an answer into the domain's; an answer about another request or subject is a failure. */
const toAnswer = (response: EraseResponse, sent: Subject): EraseAnswer => {
  checkEcho(sent, response.subject);
  const outcome = response.outcome;
  if (outcome === undefined) throw failed('ANSWER_INCOMPLETE', false);
  if (outcome.$case !== 'accepted') return { outcome: finalOutcomeFromProto(outcome) };
  if (outcome.value.expectedBy === undefined) throw failed('ANSWER_INCOMPLETE', false);
  return { expectedBy: outcome.value.expectedBy };
};

/** The trace context headers of a client span, as call metadata: the linked service continues the trace. */
const metadataOf = (headers: Readonly<Record<string, string>>): Metadata => {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(headers)) metadata.set(key, value);
  return metadata;
};

/** A call's outcome on its span: the gRPC status name of a failure is its reason. */
const outcomeOf: OutcomeOf = ({ error }) =>
  error === undefined
    ? { attributes: { [attributeKeys.grpcStatus]: 0 }, fault: false }
    : {
        attributes: { [attributeKeys.errorReason]: DomainError.from(error).reason },
        fault: true,
      };

/** One call to a linked service, in a CLIENT span named like instrumentation-grpc's. */
const traced = <T>(
  method: 'Suspend' | 'Restore' | 'Erase',
  participant: string,
  run: (metadata: Metadata) => Promise<T>,
): Promise<T> =>
  clientSpan(
    {
      system: 'grpc',
      service: rpcServices.participant,
      method,
      attributes: { [attributeKeys.participant]: participant },
      outcomeOf,
    },
    (headers) => run(metadataOf(headers)),
  );

/** Recent calls of each service: the last 15 minutes, at most 1,000 calls per service. */
const RECENT_CALLS: Omit<CallWindowOptions, 'clock'> = { windowMs: 15 * 60_000, maxSamples: 1000 };

/** Runs a call and records in the window how long it took and whether it failed. */
const timed = async <T>(window: CallWindow, name: string, call: () => Promise<T>): Promise<T> => {
  const started = performance.now();
  let failed = true;
  try {
    const answer = await call();
    failed = false;
    return answer;
  } finally {
    window.record(name, { ms: performance.now() - started, failed });
  }
};

/**
 * The linked services from configuration, called over gRPC: every call has a
 * deadline, carries the trace context, and is keyed by the request's name
 * (the participant's idempotency key). This is the only place that holds raw
 * clients of linked services. TLS files are read here, once: a missing or
 * unusable one throws (naming the service and the file) before any client exists.
 * The recent calls are stamped with `clock`, the service's, as the reads that report them.
 */
export const createGrpcParticipants = (
  registrations: readonly ParticipantRegistration[],
  pseudonymOf: (subjectId: SubjectId) => string,
  clock: Clock,
): Participants & { close(): void } => {
  const window = createCallWindow({ ...RECENT_CALLS, clock });
  const channels = registrations.map((registration) => ({
    registration,
    channel: participantChannel(registration),
  }));
  const clients = new Map(
    channels.map(({ registration, channel }) => [
      registration.name,
      {
        registration,
        client: new ErasureParticipantServiceClient(
          registration.address,
          channel.credentials,
          channel.options,
        ),
      },
    ]),
  );
  const subjectIdFor = (registration: ParticipantRegistration, subjectId: SubjectId): string =>
    registration.subjectId === 'pseudonym' ? pseudonymOf(subjectId) : subjectId;
  /** The subject as this service is told about it. */
  const subjectFor = (
    registration: ParticipantRegistration,
    call: { deletionRequestId: DeletionRequestId; subjectId: SubjectId },
  ): Subject => ({
    deletionRequest: deletionRequestName(call.deletionRequestId),
    subjectId: subjectIdFor(registration, call.subjectId),
  });
  return {
    specs: registrations,
    subjectIdFor: (name, subjectId) => {
      const entry = clients.get(name);
      return entry === undefined ? subjectId : subjectIdFor(entry.registration, subjectId);
    },
    erase: (name, call) => {
      const entry = clients.get(name);
      if (entry === undefined) return Promise.reject(failed('UNKNOWN_PARTICIPANT', false));
      const subject = subjectFor(entry.registration, call);
      const request = EraseRequest.fromPartial({
        subject,
        categories: [...entry.registration.categories],
        finalAnswerDeadline: call.finalAnswerDeadline,
      });
      return timed(window, name, () =>
        traced(
          'Erase',
          name,
          (metadata) =>
            new Promise((resolve, reject) => {
              entry.client.erase(
                request,
                metadata,
                { deadline: Date.now() + entry.registration.timeoutMs },
                (error, response) => {
                  if (error) reject(classify(error));
                  else {
                    try {
                      resolve(toAnswer(response, subject));
                    } catch (mismatch) {
                      reject(
                        mismatch instanceof Error ? mismatch : failed('ANSWER_INCOMPLETE', false),
                      );
                    }
                  }
                },
              );
            }),
        ),
      );
    },
    notify: (name, phase, call) => {
      const entry = clients.get(name);
      if (entry === undefined) return Promise.reject(failed('UNKNOWN_PARTICIPANT', false));
      const subject = subjectFor(entry.registration, call);
      const options = { deadline: Date.now() + entry.registration.timeoutMs };
      const method = phase === 'suspend' ? 'Suspend' : 'Restore';
      return timed(window, name, () =>
        traced(
          method,
          name,
          (metadata) =>
            new Promise<void>((resolve, reject) => {
              const done = (
                error: ServiceError | null,
                response: { subject?: Subject | undefined } | undefined,
              ) => {
                if (error) return reject(classify(error));
                try {
                  checkEcho(subject, response?.subject);
                  resolve();
                } catch (mismatch) {
                  reject(mismatch instanceof Error ? mismatch : failed('ANSWER_MISMATCH', false));
                }
              };
              if (phase === 'suspend') {
                entry.client.suspend(
                  SuspendRequest.fromPartial({
                    subject,
                    categories: [...entry.registration.categories],
                  }),
                  metadata,
                  options,
                  done,
                );
              } else {
                entry.client.restore(
                  RestoreRequest.fromPartial({ subject }),
                  metadata,
                  options,
                  done,
                );
              }
            }),
        ),
      );
    },
    recentCalls: (name) => window.stats(name),
    close: () => {
      for (const { client } of clients.values()) client.close();
    },
  };
};
