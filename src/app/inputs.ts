import { z } from 'zod';
import { auditKinds } from '../domain/audit-event.js';
import { invalidArgument } from '../domain/domain-error.js';
import { deletionStates } from '../domain/deletion-state.js';
import { isSubjectId, parseDeletionRequestName, type DeletionRequestId } from '../domain/ids.js';
import { jurisdictions } from '../domain/legal-deadline.js';
import { linkedServiceSteps } from '../domain/linked-service-step.js';

const subjectId = z
  .string()
  .refine(isSubjectId, { error: 'must be 1–128 characters of [A-Za-z0-9._:@-]' });

const name = z.string().transform((value, ctx): DeletionRequestId => {
  const id = parseDeletionRequestName(value);
  if (id === undefined) {
    ctx.addIssue({ code: 'custom', message: 'must be deletionRequests/{id}' });
    return z.NEVER;
  }
  return id;
});

const etag = z.string().max(64).optional();

/** Input of requestDeletion. `requestId` is the AIP-155 idempotency key. */
export const requestDeletionInput = z.strictObject({
  subjectId,
  reason: z.string().max(500).default(''),
  requestId: z.uuid().optional(),
});
/** Input of confirmDeletion; no code means a step-up confirmation. */
export const confirmDeletionInput = z.strictObject({
  name,
  code: z
    .string()
    .regex(/^[0-9]{6,10}$/, 'must be the digits of the code')
    .optional(),
});
/** Input of approveDeletion. */
export const approveDeletionInput = z.strictObject({ name, etag });
/** Input of rejectDeletion. */
export const rejectDeletionInput = z.strictObject({
  name,
  etag,
  reason: z.string().min(1).max(500),
});
/** Input of extendDeadline: the reason is what the subject is told. */
export const extendDeadlineInput = z.strictObject({
  name,
  etag,
  reason: z.string().trim().min(10).max(500),
});
/** Input of cancelDeletion. */
export const cancelDeletionInput = z.strictObject({ name, etag });
/** Input of undeleteDeletionRequest. */
export const undeleteDeletionRequestInput = z.strictObject({ name, etag });
/** Input of getDeletionRequest. */
export const getDeletionRequestInput = z.strictObject({ name });
/** Input of watchDeletionRequest; `after` is the cursor of the last event seen, to resume. */
export const watchDeletionRequestInput = z.strictObject({
  name,
  after: z
    .string()
    .regex(/^[0-9]{1,6}$/, 'a cursor of an earlier event')
    .optional(),
});
const participant = z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, 'a registered linked service name');

/** The filters of the queue that the list and the counts share. */
const queueFilters = {
  jurisdiction: z.enum(jurisdictions).optional(),
  /** Requests whose Erase step at this linked service is not finished (waiting, or failed). */
  linkedService: participant.optional(),
  /** Narrows `linkedService` to waiting or failed steps there; only with it. */
  linkedServiceStep: z.enum(linkedServiceSteps).optional(),
};

/** A step filter names the linked service it is about. */
const stepNeedsService = (input: {
  readonly linkedService?: string | undefined;
  readonly linkedServiceStep?: unknown;
}): boolean => input.linkedServiceStep === undefined || input.linkedService !== undefined;
const stepWithoutService = { error: 'only with linkedService', path: ['linkedServiceStep'] };

/** Input of listDeletionRequests; `deadlineBefore` lists open requests due before it, soonest first. */
export const listDeletionRequestsInput = z
  .strictObject({
    pageSize: z.number().int().min(0).default(0),
    pageToken: z.string().max(512).optional(),
    state: z.enum(deletionStates).optional(),
    subjectId: subjectId.optional(),
    ...queueFilters,
    deadlineBefore: z.date().optional(),
  })
  .refine(stepNeedsService, stepWithoutService);

/** Input of countDeletionRequests: `dueWithinDays` is how far ahead a deadline counts as due soon. */
export const countDeletionRequestsInput = z
  .strictObject({
    ...queueFilters,
    dueWithinDays: z.number().int().min(1).max(366).default(7),
  })
  .refine(stepNeedsService, stepWithoutService)
  .default({ dueWithinDays: 7 });
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const categories = z.array(z.string().max(100)).max(100).default([]);

/** A final outcome as a linked service reports it. */
const reportedOutcome = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('ERASED'), records: count, categories }),
  z.strictObject({ kind: z.literal('NOTHING_FOUND') }),
  z.strictObject({
    kind: z.literal('RETAINED'),
    legalBasis: z.string().min(1).max(500),
    categories,
    until: z.date().nullable().default(null),
    erasedRecords: count.default(0),
  }),
]);

/** Input of reportErasureOutcome. */
export const reportErasureOutcomeInput = z.strictObject({
  name,
  participant,
  subjectId,
  outcome: reportedOutcome,
});
/** Input of retryParticipant. */
export const retryParticipantInput = z.strictObject({ name, participant, etag });
/** Input of resolveParticipant. */
export const resolveParticipantInput = z.strictObject({
  name,
  participant,
  justification: z.string().min(10).max(1000),
  records: count,
  etag,
});

/** Input of listAuditEvents; `name`s and the subject id are matched as the log stores them. */
export const listAuditEventsInput = z.strictObject({
  pageSize: z.number().int().min(0).default(0),
  pageToken: z.string().max(512).optional(),
  kind: z.enum(auditKinds).optional(),
  deletionRequest: name.optional(),
  subjectId: subjectId.optional(),
  startTime: z.date().optional(),
  endTime: z.date().optional(),
});
/** Input of the calls that take nothing (verifyAuditLog, getSafetyStatus). */
export const noInput = z.strictObject({}).optional();
/** Input of resumeErasures. */
export const resumeErasuresInput = z.strictObject({
  justification: z.string().min(10).max(1000),
});
/** Input of checkErasedSubjects: subject ids as the linked service knows them (its pseudonyms, maybe). */
export const checkErasedSubjectsInput = z.strictObject({
  participant,
  subjectIds: z
    .array(z.string().regex(/^[A-Za-z0-9._:@_-]{1,200}$/, 'a subject id or pseudonym'))
    .min(1)
    .max(1000),
});

/** The parsed inputs, as the use cases take them. */
export type RequestDeletionInput = z.input<typeof requestDeletionInput>;
/** Input of confirmDeletion, before parsing. */
export type ConfirmDeletionInput = z.input<typeof confirmDeletionInput>;
/** Input of approveDeletion, before parsing. */
export type ApproveDeletionInput = z.input<typeof approveDeletionInput>;
/** Input of extendDeadline, before parsing. */
export type ExtendDeadlineInput = z.input<typeof extendDeadlineInput>;
/** Input of rejectDeletion, before parsing. */
export type RejectDeletionInput = z.input<typeof rejectDeletionInput>;
/** Input of cancelDeletion, before parsing. */
export type CancelDeletionInput = z.input<typeof cancelDeletionInput>;
/** Input of undeleteDeletionRequest, before parsing. */
export type UndeleteDeletionRequestInput = z.input<typeof undeleteDeletionRequestInput>;
/** Input of getDeletionRequest, before parsing. */
export type GetDeletionRequestInput = z.input<typeof getDeletionRequestInput>;
/** Input of watchDeletionRequest, before parsing. */
export type WatchDeletionRequestInput = z.input<typeof watchDeletionRequestInput>;
/** Input of listDeletionRequests, before parsing. */
export type ListDeletionRequestsInput = z.input<typeof listDeletionRequestsInput>;
/** Input of countDeletionRequests, before parsing. */
export type CountDeletionRequestsInput = z.input<typeof countDeletionRequestsInput>;

/** Input of reportErasureOutcome, before parsing. */
export type ReportErasureOutcomeInput = z.input<typeof reportErasureOutcomeInput>;
/** Input of retryParticipant, before parsing. */
export type RetryParticipantInput = z.input<typeof retryParticipantInput>;
/** Input of resolveParticipant, before parsing. */
export type ResolveParticipantInput = z.input<typeof resolveParticipantInput>;

/** Input of listAuditEvents, before parsing. */
export type ListAuditEventsInput = z.input<typeof listAuditEventsInput>;
/** Input of resumeErasures, before parsing. */
export type ResumeErasuresInput = z.input<typeof resumeErasuresInput>;
/** Input of checkErasedSubjects, before parsing. */
export type CheckErasedSubjectsInput = z.input<typeof checkErasedSubjectsInput>;

/** Parses with a schema; INVALID_ARGUMENT with one field violation per issue. */
export const parseInput = <TSchema extends z.ZodType>(
  schema: TSchema,
  value: unknown,
): z.output<TSchema> => {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw invalidArgument(
    result.error.issues.map((issue) => ({
      field: issue.path.map(String).join('.') || '(input)',
      description: issue.message,
    })),
  );
};
