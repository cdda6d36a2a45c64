import { describe, expect, expectTypeOf, it } from 'vitest';
import type { ConfirmationMethod } from '../../../src/domain/deletion-request.js';
import type { DeletionState } from '../../../src/domain/deletion-state.js';
import type { ErasureOutcome, StepStatus } from '../../../src/domain/erasure-steps.js';
import type { RiskReason } from '../../../src/domain/risk-policy.js';
import type { NoticeChannel, SubjectNoticeKind } from '../../../src/domain/subject-notice.js';
import type {
  DeletionRequestDocument,
  OwedNoticeDocument,
  ParticipantStepDocument,
  SentNoticeDocument,
} from '../../../src/persistence/mongo/deletion-request-model.js';
import { addedLater, type Stored } from '../../../src/persistence/mongo/stored-paths.js';

// The stored types are derived from the schema's paths: tsc checks these (nothing runs).
type IsAny<T> = 0 extends 1 & T ? true : false;
type AnyField<T> = { [K in keyof T]-?: IsAny<T[K]> extends true ? K : never }[keyof T];

describe('stored types derived from schema paths', () => {
  it('leaves a path optional only when it may be missing, and null only where it defaults to null', () => {
    const paths = {
      required: { type: String, required: true },
      defaulted: { type: String, default: '' },
      nullable: { type: Date, default: null },
      optional: Number,
      later: addedLater({ type: String, default: '' }),
      laterNullable: addedLater({ type: Date, default: null }),
      choice: { type: String, enum: ['A', 'B'] as const, required: true },
    };
    expectTypeOf<Stored<typeof paths>>().toEqualTypeOf<{
      required: string;
      defaulted: string;
      nullable: Date | null;
      optional?: number;
      later?: string;
      laterNullable?: Date | null;
      choice: 'A' | 'B';
    }>();
    // A mark in the type only: the path's options are the ones given.
    expect(addedLater(paths.later)).toBe(paths.later);
    expect(Object.getOwnPropertySymbols(paths.later)).toEqual([]);
  });

  it('keeps the request document precise', () => {
    type D = DeletionRequestDocument;
    expectTypeOf<AnyField<D>>().toEqualTypeOf<never>();
    expectTypeOf<D['state']>().toEqualTypeOf<DeletionState>();
    expectTypeOf<D['riskReasons']>().toEqualTypeOf<RiskReason[]>();
    expectTypeOf<Pick<D, 'confirmationMethod' | 'leaseUntil'>>().toEqualTypeOf<{
      confirmationMethod: ConfirmationMethod | null;
      leaseUntil: Date | null;
    }>();
    expectTypeOf<
      Pick<D, 'createTraceId' | 'noticesOwed' | 'participants' | 'outbox'>
    >().toEqualTypeOf<{
      createTraceId?: string;
      noticesOwed?: boolean;
      participants?: Record<string, ParticipantStepDocument>;
      outbox?: OwedNoticeDocument[];
    }>();
    expectTypeOf<Pick<D, 'deadlineExtension'>>().toEqualTypeOf<{
      deadlineExtension?: {
        previousDeadline: Date;
        reason: string;
        actor: D['requester'];
        at: Date;
        traceId: string;
      } | null;
    }>();
    expectTypeOf<D['requester']>().toEqualTypeOf<{
      kind: 'USER' | 'SERVICE' | 'SYSTEM';
      id: string;
    }>();
    expectTypeOf<D['history'][number]['to']>().toEqualTypeOf<DeletionState>();
    expectTypeOf<Pick<D['history'][number], 'note' | 'spanId'>>().toEqualTypeOf<{
      note: string;
      spanId?: string;
    }>();
    expectTypeOf<
      Pick<NonNullable<NonNullable<D['finalNotice']>['contact']>, 'email' | 'preferredChannel'>
    >().toEqualTypeOf<{ email: string | null; preferredChannel?: NoticeChannel | null }>();
    expectTypeOf<NonNullable<D['sealed']>>().toEqualTypeOf<{
      reason?: string;
      reviewNote?: string;
      contact?: string;
      extensionReason?: string;
    }>();
  });

  it('keeps the documents inside it precise', () => {
    type Outcome = NonNullable<ParticipantStepDocument['outcome']>;
    expectTypeOf<ParticipantStepDocument['status']>().toEqualTypeOf<StepStatus>();
    expectTypeOf<Outcome['kind']>().toEqualTypeOf<ErasureOutcome['kind']>();
    expectTypeOf<Pick<Outcome, 'records' | 'until'>>().toEqualTypeOf<{
      records?: number;
      until?: Date | null;
    }>();
    expectTypeOf<OwedNoticeDocument>().toEqualTypeOf<{
      key: string;
      kind: SubjectNoticeKind;
      attempts: number;
      owedAt?: Date;
      dueAt: Date;
      deadline: Date | null;
      purgeAt: Date | null;
      reason: string | null;
    }>();
    expectTypeOf<SentNoticeDocument['outcome']>().toEqualTypeOf<'SENT' | 'UNDELIVERABLE'>();
  });
});
