import { describe, expect, it } from 'vitest';
import {
  canTransition,
  deletionStates,
  transitionName,
} from '../../../src/domain/deletion-state.js';

describe('transitionName', () => {
  it('names what happened, by where a request came from and went', () => {
    expect(transitionName('REQUESTED', 'SCHEDULED')).toBe('CONFIRMED');
    expect(transitionName('REQUESTED', 'AWAITING_APPROVAL')).toBe('CONFIRMED');
    expect(transitionName('AWAITING_APPROVAL', 'SCHEDULED')).toBe('APPROVED');
    expect(transitionName('AWAITING_APPROVAL', 'REJECTED')).toBe('REJECTED');
    expect(transitionName('SCHEDULED', 'RESTORED')).toBe('UNDELETED');
    expect(transitionName('SCHEDULED', 'ERASING')).toBe('ERASURE_STARTED');
    expect(transitionName('NEEDS_ATTENTION', 'ERASING')).toBe('ERASURE_RESUMED');
    expect(transitionName('ERASING', 'NEEDS_ATTENTION')).toBe('ATTENTION_NEEDED');
    expect(transitionName('ERASING', 'COMPLETED')).toBe('COMPLETED');
  });

  it('names every allowed change, none of them by its target state alone where that is ambiguous', () => {
    const allowed = deletionStates.flatMap((from) =>
      deletionStates.filter((to) => canTransition(from, to)).map((to) => [from, to] as const),
    );
    const names = allowed.map(([from, to]) => transitionName(from, to));
    expect(names.every((name) => /^[A-Z_]+$/.test(name))).toBe(true);
    // Two ways into SCHEDULED and into ERASING, each told apart.
    expect(new Set(names)).toContain('APPROVED');
    expect(new Set(names)).toContain('ERASURE_RESUMED');
  });
});
