import { describe, expect, it } from 'vitest';
import { toDocument } from '../../../src/persistence/mongo/deletion-request-mapper.js';
import type { DeletionRequestDocument } from '../../../src/persistence/mongo/deletion-request-model.js';
import { changeOf, updateOf } from '../../../src/persistence/mongo/request-change.js';
import { aDeletionRequest, BUILT_AT } from '../../fixtures/deletion-request-builder.js';

const step = (status: 'PENDING' | 'DONE') => ({
  status,
  attempts: status === 'DONE' ? 1 : 0,
  lastErrorCode: null,
  nextAttemptAt: null,
  expectedBy: null,
  outcome: status === 'DONE' ? { kind: 'NOTHING_FOUND' as const } : null,
  updatedAt: BUILT_AT,
});
const entry = {
  from: 'REQUESTED' as const,
  to: 'SCHEDULED' as const,
  actor: { kind: 'SYSTEM' as const, id: 'system/test' },
  at: BUILT_AT,
  note: '',
  traceId: '',
  spanId: '',
};
const base = toDocument(
  aDeletionRequest({
    participants: { billing: step('PENDING'), search: step('PENDING') },
    history: [entry],
  }),
);
const later = new Date(BUILT_AT.getTime() + 1000);

describe('changeOf', () => {
  it('is empty for an unchanged document, and so is its update', () => {
    expect(changeOf(base, structuredClone(base))).toEqual({ $set: {}, $push: {}, $unset: {} });
    expect(updateOf(changeOf(base, structuredClone(base)))).toEqual({});
  });

  it('sets the changed fields only, Dates compared by value', () => {
    const after = {
      ...base,
      state: 'CANCELLED' as const,
      updatedAt: later,
      createdAt: new Date(base.createdAt),
    };
    expect(changeOf(base, after)).toEqual({
      $set: { state: 'CANCELLED', updatedAt: later },
      $push: {},
      $unset: {},
    });
  });

  it('pushes the entries a list gained at its end, and sets a list that changed otherwise', () => {
    const added = { ...entry, note: 'next' };
    expect(changeOf(base, { ...base, history: [...base.history, added] }).$push).toEqual({
      history: { $each: [added] },
    });
    const rewritten = { ...base, history: [added] };
    expect(changeOf(base, rewritten)).toMatchObject({ $set: { history: [added] }, $push: {} });
  });

  it('sets the audited answers whole: the version before may not show what the repository raised', () => {
    const after = { ...base, auditedAnswers: ['billing'] };
    expect(changeOf({ ...base, auditedAnswers: [] }, after)).toEqual({
      $set: { auditedAnswers: ['billing'] },
      $push: {},
      $unset: {},
    });
  });

  it("sets one linked service's step by its path, and the whole map when one went away", () => {
    const done = { ...base, participants: { ...base.participants, billing: step('DONE') } };
    expect(changeOf(base, done).$set).toEqual({ 'participants.billing': step('DONE') });
    const gone = { ...base, participants: { billing: step('PENDING') } };
    expect(changeOf(base, gone).$set).toEqual({ participants: { billing: step('PENDING') } });
  });

  it('sets the whole map when a name cannot be a path segment', () => {
    const odd = { ...base.participants, 'a.b': step('PENDING') };
    expect(changeOf(base, { ...base, participants: odd }).$set).toEqual({ participants: odd });
  });

  it('unsets a field that went away', () => {
    const without: DeletionRequestDocument = { ...base };
    delete without.retention;
    expect(changeOf(base, without).$unset).toEqual({ retention: '' });
  });
});
