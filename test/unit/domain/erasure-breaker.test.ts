import { describe, expect, it } from 'vitest';
import {
  admitErasure,
  admitErasures,
  initialBreaker,
  REMEMBERED_MS,
  startedInWindow,
  requesterOf,
  resumeErasures,
  type BreakerState,
  type ErasureStart,
} from '../../../src/domain/erasure-breaker.js';
import type { DomainError } from '../../../src/domain/domain-error.js';

const policy = { windowMs: 60_000, limit: 3, requesterLimit: 2 };
const t0 = new Date('2026-11-29T10:00:00Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const start = (id: string, requester: string | null, seconds = 0): ErasureStart => ({
  deletionRequestId: id,
  requester,
  at: at(seconds),
});

/** Admits the starts in order, as a worker pass does: one batch. */
const run = (starts: readonly ErasureStart[], from: BreakerState = initialBreaker) =>
  admitErasures(from, starts, policy);

/** Admits the starts one after another, each on the state the one before left. */
const oneByOne = (starts: readonly ErasureStart[], from: BreakerState = initialBreaker) => {
  let state = from;
  const admissions = starts.map((next) => {
    const decided = admitErasure(state, next, policy);
    state = decided.state;
    return decided.admission;
  });
  return { admissions, state };
};

describe('mass-deletion breaker', () => {
  it('decides a batch exactly as the same starts one after another', () => {
    const counted = run([start('a', 'svc'), start('b', null)]).state;
    const batch = [
      start('a', 'svc', 1), // counted before: admitted again, not counted twice
      start('c', 'svc', 2), // the requester's second: its limit is 2
      start('d', 'svc', 3), // the requester's third: trips it
      start('e', null, 4), // held
      start('b', null, 5), // counted before: admitted even when paused
    ];
    expect(run(batch, counted)).toEqual(oneByOne(batch, counted));
    expect(run(batch, counted).admissions).toEqual([
      'ADMITTED',
      'ADMITTED',
      'TRIPPED',
      'PAUSED',
      'ADMITTED',
    ]);
  });

  it('admits up to the limit in a window; the next start trips it and nothing starts after', () => {
    const { admissions, state } = run([
      start('a', null),
      start('b', null),
      start('c', null),
      start('d', null),
      start('e', null),
    ]);
    expect(admissions).toEqual(['ADMITTED', 'ADMITTED', 'ADMITTED', 'TRIPPED', 'PAUSED']);
    expect(state.pause).toEqual({ reason: 'TOTAL_LIMIT', at: at(0), requester: null });
    expect(state.counted.flatMap((entry) => entry.ids)).toEqual(['a', 'b', 'c']);
    expect(startedInWindow(state, at(0), policy)).toBe(3);
  });

  it('lets the window slide: starts older than the window no longer count', () => {
    const { admissions } = run([
      start('a', null, 0),
      start('b', null, 1),
      start('c', null, 2),
      start('d', null, 61),
    ]);
    expect(admissions).toEqual(['ADMITTED', 'ADMITTED', 'ADMITTED', 'ADMITTED']);
  });

  it('counts a start for at least the window and at most a sixtieth of it longer', () => {
    // Stretches of one second for a window of a minute: a start at 0.5 s counts until 61 s.
    const { state } = run([start('a', 'svc', 0.5)]);
    expect(startedInWindow(state, at(60.4), policy)).toBe(1);
    expect(startedInWindow(state, at(60.99), policy)).toBe(1);
    expect(startedInWindow(state, at(61), policy)).toBe(0);
    const full = run([start('a', 'svc', 0.5), start('b', 'svc', 0.9), start('c', null, 30)]);
    expect(run([start('d', null, 60.95)], full.state).admissions).toEqual(['TRIPPED']);
    expect(run([start('d', null, 61)], full.state).admissions).toEqual(['ADMITTED']);
  });

  it('keeps its record the same size however many erasures start', () => {
    const roomy = { windowMs: 60_000, limit: 1_000_000, requesterLimit: 1_000_000 };
    let state = initialBreaker;
    for (let second = 0; second < 600; second += 1) {
      const starts = ['x', 'y', 'z'].map((name) => start(`${name}${second}`, name, second));
      state = admitErasures(state, starts, roomy).state;
    }
    expect(state.counts.length).toBeLessThanOrEqual(61);
    expect(state.counts.every((count) => count.requesters.length === 3)).toBe(true);
    // The window's 60 stretches and the one it is sliding out of.
    expect(startedInWindow(state, at(599), roomy)).toBe(3 * 61);
    expect(state.counted.length).toBe(REMEMBERED_MS / 1000);
  });

  it('remembers a counted request for REMEMBERED_MS; asked again later, it counts again', () => {
    const roomy = { ...policy, windowMs: 3_600_000 };
    const first = admitErasures(initialBreaker, [start('a', null, 0)], roomy).state;
    const soon = admitErasure(first, start('a', null, REMEMBERED_MS / 1000 - 1), roomy);
    expect(soon.state).toBe(first);
    const other = admitErasure(first, start('b', null, REMEMBERED_MS / 1000 + 1), roomy).state;
    expect(other.counted.flatMap((entry) => entry.ids)).toEqual(['b']);
    const late = admitErasure(other, start('a', null, REMEMBERED_MS / 1000 + 2), roomy);
    expect(late.admission).toBe('ADMITTED');
    expect(startedInWindow(late.state, at(REMEMBERED_MS / 1000 + 2), roomy)).toBe(3);
  });

  it('limits one requester below the total; subjects deleting themselves count only in the total', () => {
    const { admissions, state } = run([
      start('a', 'svc-1'),
      start('b', 'svc-1'),
      start('c', null),
      start('d', 'svc-1'),
    ]);
    expect(admissions).toEqual(['ADMITTED', 'ADMITTED', 'ADMITTED', 'TRIPPED']);
    expect(state.pause?.reason).toBe('TOTAL_LIMIT');
    const byOne = run([start('a', 'svc-1'), start('b', 'svc-1'), start('c', 'svc-1')]);
    expect(byOne.admissions).toEqual(['ADMITTED', 'ADMITTED', 'TRIPPED']);
    expect(byOne.state.pause).toEqual({ reason: 'REQUESTER_LIMIT', at: at(0), requester: 'svc-1' });
  });

  it('admits a request counted before again without counting it twice, even once paused', () => {
    const first = run([start('a', null), start('b', null), start('c', null), start('d', null)]);
    const again = admitErasure(first.state, start('a', null, 5), policy);
    expect(again.admission).toBe('ADMITTED');
    expect(again.state).toBe(first.state);
  });

  it('resumes with a fresh window, not by the requester that tripped it, and a second resume is a no-op', () => {
    const tripped = run([start('a', 'svc-1'), start('b', 'svc-1'), start('c', 'svc-1')]).state;
    expect(() => resumeErasures(tripped, { kind: 'SERVICE', id: 'svc-1' }, at(10))).toThrow(
      expect.objectContaining({ reason: 'SELF_RESUME' }) as DomainError,
    );
    const admin = { kind: 'USER' as const, id: 'admin-1' };
    const resumed = resumeErasures(tripped, admin, at(10));
    expect(resumed.resumed).toBe(true);
    expect(resumed.state).toMatchObject({
      counts: [],
      counted: [],
      pause: null,
      resumed: { at: at(10), by: admin },
    });
    expect(resumeErasures(resumed.state, admin, at(11))).toEqual({
      state: resumed.state,
      resumed: false,
    });
    expect(
      run([start('c', 'svc-1', 12), start('d', 'svc-1', 12)], resumed.state).admissions,
    ).toEqual(['ADMITTED', 'ADMITTED']);
  });

  it('names the requester of a request, and no one for a subject deleting themselves', () => {
    expect(requesterOf({ subjectId: 'u1' as never, requester: { kind: 'USER', id: 'u1' } })).toBe(
      null,
    );
    expect(
      requesterOf({ subjectId: 'u1' as never, requester: { kind: 'SERVICE', id: 'svc' } }),
    ).toBe('svc');
  });
});
