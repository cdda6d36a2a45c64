import { describe, expectTypeOf, it } from 'vitest';
import type {
  DeletionClient,
  DeletionClientError,
  DeletionEventView,
  DeletionRequestView,
} from '../../clients/trpc/deletion-client.js';

// Type-level only: vitest checks this file with tsc and never runs it.
declare const client: DeletionClient;
type Read = Awaited<ReturnType<DeletionClient['getDeletionRequest']['query']>>;

describe('clients/trpc: end-to-end types from the router', () => {
  it('types every output, and the error data', () => {
    // What a query or mutation resolves to is a DeletionRequestView (JSON, so arrays are mutable).
    const read = (request: Read): DeletionRequestView => request;
    const changed = (request: Awaited<ReturnType<DeletionClient['cancelDeletion']['mutate']>>) =>
      read(request);
    expectTypeOf(changed).returns.toEqualTypeOf<DeletionRequestView>();
    // None of the domain's secrets or internals is in the output type.
    expectTypeOf<Read>().not.toHaveProperty('verification');
    expectTypeOf<Read>().not.toHaveProperty('finalNotice');
    expectTypeOf<Read>().not.toHaveProperty('leaseOwner');
    expectTypeOf<Read>().not.toHaveProperty('idempotencyKey');
    expectTypeOf<Read>().not.toHaveProperty('requestFingerprint');
    expectTypeOf<Read['state']>().toEqualTypeOf<
      | 'REQUESTED'
      | 'AWAITING_APPROVAL'
      | 'SCHEDULED'
      | 'RESTORED'
      | 'CANCELLED'
      | 'REJECTED'
      | 'EXPIRED'
      | 'ERASING'
      | 'COMPLETED'
      | 'NEEDS_ATTENTION'
    >();
    expectTypeOf<Read['purgeTime']>().toEqualTypeOf<string | null>();
    expectTypeOf<NonNullable<DeletionClientError['data']>['reason']>().toEqualTypeOf<string>();
    expectTypeOf<NonNullable<DeletionClientError['data']>['fieldErrors']>().toEqualTypeOf<
      Readonly<Record<string, readonly string[]>>
    >();
  });

  it('types the live subscription', () => {
    client.watchDeletionRequest.subscribe(
      { name: 'deletionRequests/r1' },
      {
        onData: (event) => {
          expectTypeOf(event.id).toEqualTypeOf<string>();
          expectTypeOf(event.data).toExtend<DeletionEventView>();
          if (event.data.kind === 'STATE_CHANGED')
            expectTypeOf(event.data.change.toState).toEqualTypeOf<DeletionRequestView['state']>();
        },
      },
    );
  });

  it('types the console’s reads: queue filters, counts, linked-service health', () => {
    void client.listDeletionRequests.query({
      jurisdiction: 'CCPA',
      linkedService: 'crm',
      linkedServiceStep: 'WAITING',
      deadlineBefore: new Date(),
    });
    void client.countDeletionRequests.query({ linkedService: 'crm', linkedServiceStep: 'FAILED' });
    // @ts-expect-error not a step filter
    void client.listDeletionRequests.query({ linkedService: 'crm', linkedServiceStep: 'DONE' });
    // @ts-expect-error not a jurisdiction
    void client.listDeletionRequests.query({ jurisdiction: 'LGPD' });
    type Counts = Awaited<ReturnType<DeletionClient['countDeletionRequests']['query']>>;
    expectTypeOf<Counts['byState']>().toEqualTypeOf<Readonly<Record<Read['state'], number>>>();
    expectTypeOf<Counts['countedAt']>().toEqualTypeOf<string>();
    // @ts-expect-error a count is a query
    void client.countDeletionRequests.mutate({});
    type Health = Awaited<ReturnType<DeletionClient['getLinkedServiceHealth']['query']>>;
    type Service = Health['linkedServices'][number];
    expectTypeOf<Service['waiting']>().toEqualTypeOf<number>();
    expectTypeOf<Service['recentCalls']['p95Ms']>().toEqualTypeOf<number | null>();
    expectTypeOf<Health['readAt']>().toEqualTypeOf<string>();
  });

  it('refuses a wrong input shape at compile time', () => {
    // @ts-expect-error subjectId is required
    void client.requestDeletion.mutate({ reason: 'leaving' });
    // @ts-expect-error a field the procedure does not take
    void client.cancelDeletion.mutate({ name: 'deletionRequests/r1', force: true });
    // @ts-expect-error pageSize is a number
    void client.listDeletionRequests.query({ pageSize: '10' });
    // @ts-expect-error not a state
    void client.listDeletionRequests.query({ state: 'DONE' });
    void client.reportErasureOutcome.mutate({
      name: 'deletionRequests/r1',
      participant: 'crm',
      subjectId: 'u1',
      // @ts-expect-error an outcome kind that does not exist
      outcome: { kind: 'DELETED' },
    });
    // @ts-expect-error a mutation is not a query
    void client.cancelDeletion.query({ name: 'deletionRequests/r1' });
    // @ts-expect-error no such procedure
    void client.dropEverything.mutate({});
  });
});
