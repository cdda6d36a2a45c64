import { describe, expect, it } from 'vitest';
import { paint, renderTimeline } from '../../../clients/deletionctl/render.js';
import {
  DeletionRequest,
  DeletionRequest_State,
  OwnerAlert_Status,
  StateChange,
} from '../../../clients/grpc/gen/deletion/v1/deletion_request.js';

const at = (minute: number) => new Date(Date.UTC(2026, 10, 29, 9, minute));

describe('deletionctl timeline', () => {
  it('names the trace of the request’s creation and of each state change', () => {
    const request = DeletionRequest.fromPartial({
      name: 'deletionRequests/r-1',
      state: DeletionRequest_State.STATE_ERASING,
      createTime: at(0),
      createTraceId: 'a'.repeat(32),
      requester: { id: 'user-1' },
      history: [
        StateChange.fromPartial({
          fromState: DeletionRequest_State.STATE_REQUESTED,
          toState: DeletionRequest_State.STATE_SCHEDULED,
          time: at(1),
          traceId: 'b'.repeat(32),
        }),
        StateChange.fromPartial({
          fromState: DeletionRequest_State.STATE_SCHEDULED,
          toState: DeletionRequest_State.STATE_ERASING,
          time: at(2),
        }),
      ],
    });
    const lines = renderTimeline(request, paint(false)).split('\n');
    expect(lines.find((line) => line.includes('REQUESTED  by user-1'))).toContain(
      `trace ${'a'.repeat(32)}`,
    );
    expect(lines.find((line) => line.includes('→ SCHEDULED'))).toContain(`trace ${'b'.repeat(32)}`);
    // No trace known: none printed.
    expect(lines.find((line) => line.includes('→ ERASING'))).not.toContain('trace');
  });

  it('says which owning team was alerted about which linked service, and how it went', () => {
    const request = DeletionRequest.fromPartial({
      name: 'deletionRequests/r-2',
      state: DeletionRequest_State.STATE_NEEDS_ATTENTION,
      createTime: at(0),
      ownerAlerts: [
        {
          linkedService: 'billing',
          team: 'payments',
          status: OwnerAlert_Status.STATUS_SENT,
          attempts: 3,
          oweTime: at(5),
          settleTime: at(7),
          traceId: 'c'.repeat(32),
        },
        {
          linkedService: 'crm',
          team: 'support-tools',
          status: OwnerAlert_Status.STATUS_NO_WEBHOOK,
          attempts: 0,
          oweTime: at(5),
        },
      ],
    });
    const lines = renderTimeline(request, paint(false)).split('\n');
    expect(lines).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `owner payments of billing alerted: SENT after 3 attempts {2}trace ${'c'.repeat(32)}$`,
        ),
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/owner support-tools of crm alerted: NO_WEBHOOK$/),
    );
  });
});
