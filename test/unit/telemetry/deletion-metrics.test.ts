import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeletionRequestRepository } from '../../../src/app/ports/deletion-request-repository.js';
import type { DeletionRequest, StateChange } from '../../../src/domain/deletion-request.js';
import { meteredRequests } from '../../../src/telemetry/deletion-metrics.js';
import { aDeletionRequest, BUILT_AT } from '../../fixtures/deletion-request-builder.js';
import { installInMemoryTelemetry, pointsOf, totalOf } from '../../support/in-memory-telemetry.js';

const at = (seconds: number) => new Date(BUILT_AT.getTime() + seconds * 1000);
const change = (from: StateChange['from'], to: StateChange['to'], second: number): StateChange => ({
  from,
  to,
  actor: { kind: 'SYSTEM', id: 'test' },
  at: at(second),
  note: '',
  traceId: '',
  spanId: '',
});

/** A repository whose updates win or lose as told. */
const inner = (wins: boolean): DeletionRequestRepository =>
  ({ update: () => Promise.resolve(wins) }) as unknown as DeletionRequestRepository;

describe('the metered repository', () => {
  let telemetry: ReturnType<typeof installInMemoryTelemetry>;
  beforeAll(() => {
    telemetry = installInMemoryTelemetry();
  });
  afterAll(() => {
    telemetry.uninstall();
  });
  const moved = async (from: string, to: string) =>
    totalOf(await telemetry.collect(), 'deletion.transitions', {
      'deletion.from_state': from,
      'deletion.to_state': to,
    });
  const secondsIn = async (state: string) =>
    pointsOf(await telemetry.collect(), 'deletion.state.duration')
      .filter((point) => point.attributes['deletion.state'] === state)
      .map((point) => (typeof point.value === 'number' ? point.value : point.value.sum));

  it('counts each state change a won write stores, with the time spent in the state it left', async () => {
    const previous: DeletionRequest = {
      ...aDeletionRequest({ createdAt: at(0) }),
      history: [change('REQUESTED', 'SCHEDULED', 60)],
      state: 'SCHEDULED',
    };
    // One write with two changes (the purge's group commit): started erasing, then completed.
    const next: DeletionRequest = {
      ...previous,
      state: 'COMPLETED',
      version: previous.version + 1,
      history: [
        ...previous.history,
        change('SCHEDULED', 'ERASING', 660),
        change('ERASING', 'COMPLETED', 670),
      ],
    };
    expect(await meteredRequests(inner(true)).update(next, previous)).toBe(true);

    expect(await moved('REQUESTED', 'SCHEDULED')).toBe(0); // stored earlier: not this write's
    expect(await moved('SCHEDULED', 'ERASING')).toBe(1);
    expect(await moved('ERASING', 'COMPLETED')).toBe(1);
    expect(await secondsIn('SCHEDULED')).toEqual([600]);
    expect(await secondsIn('ERASING')).toEqual([10]);
  });

  it('counts nothing when the write lost its race (the winner counts its own)', async () => {
    const previous = aDeletionRequest({ createdAt: at(0) });
    const next: DeletionRequest = {
      ...previous,
      state: 'CANCELLED',
      version: previous.version + 1,
      history: [change('REQUESTED', 'CANCELLED', 30)],
    };
    expect(await meteredRequests(inner(false)).update(next, previous)).toBe(false);
    expect(await moved('REQUESTED', 'CANCELLED')).toBe(0);
    expect(await meteredRequests(inner(true)).update(next, previous)).toBe(true);
    expect(await moved('REQUESTED', 'CANCELLED')).toBe(1);
    expect(await secondsIn('REQUESTED')).toEqual([30]);
  });
});
