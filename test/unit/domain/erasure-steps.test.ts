import { describe, expect, it } from 'vitest';
import {
  dependencyCycle,
  dueSteps,
  initialSteps,
  judgeSteps,
  reconcileSteps,
  recordAnswer,
  recordFailure,
  type ParticipantSpec,
} from '../../../src/domain/erasure-steps.js';

const t0 = new Date('2026-05-01T00:00:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);
const spec = (
  name: string,
  after: string[] = [],
  phases: ParticipantSpec['phases'] = ['erase'],
): ParticipantSpec => ({
  name,
  phases,
  after,
  maxAttempts: 4,
  identity: name,
});
const retry = { baseMs: 1000, capMs: 5000 };

describe('erasure steps', () => {
  it('starts one pending step per participant of the erase phase only', () => {
    const steps = initialSteps([spec('billing'), spec('crm', [], ['suspend'])], t0);
    expect(Object.keys(steps)).toEqual(['billing']);
    expect(steps.billing).toMatchObject({ status: 'PENDING', attempts: 0 });
  });

  it('holds a step back until the ones it comes after are done', () => {
    const specs = [spec('a'), spec('b', ['a'])];
    const steps = initialSteps(specs, t0);
    expect(dueSteps(steps, specs, t0)).toEqual(['a']);
    const done = {
      ...steps,
      a: recordAnswer(steps.a!, { outcome: { kind: 'NOTHING_FOUND' } }, t0),
    };
    expect(dueSteps(done, specs, t0)).toEqual(['b']);
  });

  it('backs off with full jitter under a growing, capped ceiling', () => {
    const step = initialSteps([spec('a')], t0).a!;
    const delays = [1, 2, 3].map((attempts) => {
      const failed = recordFailure(
        { ...step, attempts: attempts - 1 },
        { code: 'UNAVAILABLE', retryable: true },
        {
          ...retry,
          random: () => 0.999,
          maxAttempts: 10,
          now: t0,
        },
      );
      return failed.nextAttemptAt!.getTime() - t0.getTime();
    });
    expect(delays).toEqual([999, 1998, 3996]);
    const capped = recordFailure(
      { ...step, attempts: 8 },
      { code: 'UNAVAILABLE', retryable: true },
      {
        ...retry,
        random: () => 0.999,
        maxAttempts: 20,
        now: t0,
      },
    );
    expect(capped.nextAttemptAt!.getTime() - t0.getTime()).toBe(4995);
    const zero = recordFailure(
      step,
      { code: 'UNAVAILABLE', retryable: true },
      { ...retry, random: () => 0, maxAttempts: 10, now: t0 },
    );
    expect(zero.nextAttemptAt).toEqual(t0);
  });

  it('fails a step past its budget or on a non-retryable error', () => {
    const step = initialSteps([spec('a')], t0).a!;
    const policy = { ...retry, random: () => 0.5, maxAttempts: 2, now: t0 };
    const once = recordFailure(step, { code: 'UNAVAILABLE', retryable: true }, policy);
    expect(once.status).toBe('RETRYING');
    expect(recordFailure(once, { code: 'UNAVAILABLE', retryable: true }, policy)).toMatchObject({
      status: 'FAILED',
      attempts: 2,
    });
    expect(
      recordFailure(step, { code: 'PERMISSION_DENIED', retryable: false }, policy),
    ).toMatchObject({ status: 'FAILED', attempts: 1 });
  });

  it('judges: all done, waiting until the earliest due time, or needing attention', () => {
    const steps = initialSteps([spec('a'), spec('b')], t0);
    const a = recordAnswer(steps.a!, { outcome: { kind: 'NOTHING_FOUND' } }, t0);
    const accepted = recordAnswer(steps.b!, { expectedBy: at(60_000) }, t0);
    expect(judgeSteps({ a, b: accepted }, at(1000)).verdict).toEqual({
      kind: 'WAITING',
      wakeAt: at(60_000),
    });
    const late = judgeSteps({ a, b: accepted }, at(60_000));
    expect(late.verdict).toEqual({ kind: 'NEEDS_ATTENTION', failed: ['b'] });
    expect(late.steps.b).toMatchObject({ status: 'FAILED', lastErrorCode: 'REPORT_OVERDUE' });
    const done = recordAnswer(
      steps.b!,
      { outcome: { kind: 'ERASED', records: 1, categories: [] } },
      t0,
    );
    expect(judgeSteps({ a, b: done }, t0).verdict).toEqual({ kind: 'ALL_ANSWERED' });
  });

  it('wakes a purge whose pending step waits behind an accepted one when the report is due, not at once', () => {
    const steps = initialSteps([spec('billing'), spec('search', ['billing'])], t0);
    const accepted = recordAnswer(steps.billing!, { expectedBy: at(60_000) }, t0);
    expect(judgeSteps({ billing: accepted, search: steps.search! }, at(1000)).verdict).toEqual({
      kind: 'WAITING',
      wakeAt: at(60_000),
    });
    // Nothing else to wait for: a pending step is due now.
    expect(judgeSteps({ search: steps.search! }, at(1000)).verdict).toEqual({
      kind: 'WAITING',
      wakeAt: at(1000),
    });
  });

  it('finds a cycle in the after order', () => {
    expect(dependencyCycle([spec('a', ['b']), spec('b', ['c']), spec('c')])).toEqual([]);
    expect(dependencyCycle([spec('a', ['b']), spec('b', ['c']), spec('c', ['a'])])).toEqual([
      'a',
      'b',
      'c',
      'a',
    ]);
  });

  it('resumes a purge under the current registry: new services join, removed ones fail', () => {
    const started = initialSteps([spec('billing'), spec('crm'), spec('legacy')], t0);
    const steps = {
      ...started,
      billing: recordAnswer(started.billing!, { outcome: { kind: 'NOTHING_FOUND' } }, t0),
      legacy: recordAnswer(started.legacy!, { expectedBy: at(60_000) }, t0),
    };
    // legacy and crm were unregistered (crm still suspends, but no longer erases); search is new.
    const now = at(1000);
    const reconciled = reconcileSteps(
      steps,
      [spec('billing'), spec('crm', [], ['suspend']), spec('search')],
      now,
    );

    expect(reconciled.billing).toEqual(steps.billing);
    expect(reconciled.search).toMatchObject({ status: 'PENDING', attempts: 0 });
    expect(reconciled.legacy).toMatchObject({ status: 'FAILED', lastErrorCode: 'UNREGISTERED' });
    expect(reconciled.crm).toMatchObject({ status: 'FAILED', lastErrorCode: 'UNREGISTERED' });
    expect(judgeSteps(reconciled, now).verdict).toEqual({
      kind: 'NEEDS_ATTENTION',
      failed: ['crm', 'legacy'],
    });
    // Nothing changes while the registry does not.
    const same = [spec('billing'), spec('crm'), spec('legacy')];
    expect(reconcileSteps(steps, same, now)).toEqual(steps);
  });
});
