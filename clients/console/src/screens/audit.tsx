import { keysetPages, LoadMore, pageTokenOf } from '../paging.js';
import { useInfiniteQuery, useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { api, describeError, type Inputs } from '../api.js';
import { Badge, idOf, Pending, when } from '../format.js';
import { Link } from '../router.js';

type Kind = NonNullable<Inputs['listAuditEvents']['kind']>;

/** Every kind of audit event (a new kind does not compile until added). */
const KINDS = Object.keys({
  STATE_CHANGED: true,
  PRIVILEGED_READ: true,
  ADMIN_ACTION: true,
  ERASURES_PAUSED: true,
  ERASURES_RESUMED: true,
  KEY_DESTROYED: true,
  RECORD_SWEPT: true,
  PARTICIPANT_ANSWERED: true,
  NOTICE_SENT: true,
  OWNER_ALERTED: true,
} satisfies Record<Kind, true>) as Kind[];

interface Filters {
  readonly kind: Kind | '';
  readonly deletionRequest: string;
}

/**
 * The audit log, oldest first, filtered by kind and request; and the
 * verification of the whole chain and its completeness, gaps named.
 */
export const AuditScreen = () => {
  const [draft, setDraft] = useState<Filters>({ kind: '', deletionRequest: '' });
  const [filters, setFilters] = useState<Filters>(draft);
  const events = useInfiniteQuery({
    queryKey: ['audit', filters],
    queryFn: ({ pageParam }) =>
      api.listAuditEvents.query({
        pageSize: 50,
        ...pageTokenOf(pageParam),
        ...(filters.kind !== '' && { kind: filters.kind }),
        ...(filters.deletionRequest !== '' && {
          deletionRequest: filters.deletionRequest.startsWith('deletionRequests/')
            ? filters.deletionRequest
            : `deletionRequests/${filters.deletionRequest}`,
        }),
      }),
    ...keysetPages,
  });
  const apply = (event: { preventDefault(): void }) => {
    event.preventDefault();
    setFilters(draft);
  };
  const rows = events.data?.pages.flatMap((page) => page.auditEvents) ?? [];
  return (
    <section>
      <h1>Audit log</h1>
      <Verification />
      <form className="filters" onSubmit={apply}>
        <label>
          Kind{' '}
          <select
            aria-label="Kind"
            value={draft.kind}
            onChange={(event) => setDraft({ ...draft, kind: event.target.value as Kind | '' })}
          >
            <option value="">any</option>
            {KINDS.map((kind) => (
              <option key={kind}>{kind}</option>
            ))}
          </select>
        </label>
        <label>
          Request{' '}
          <input
            aria-label="Request"
            placeholder="request id"
            value={draft.deletionRequest}
            onChange={(event) => setDraft({ ...draft, deletionRequest: event.target.value.trim() })}
          />
        </label>
        <button type="submit">Filter</button>
      </form>
      {events.isPending || events.isError ? (
        <Pending error={events.isError ? describeError(events.error) : null} />
      ) : rows.length === 0 ? (
        <p className="muted">No events.</p>
      ) : (
        <table className="audit">
          <thead>
            <tr>
              <th>#</th>
              <th>Time</th>
              <th>Kind</th>
              <th>Actor</th>
              <th>Request</th>
              <th>Details</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((event) => (
              <tr key={event.sequence}>
                <td>{event.sequence}</td>
                <td>{when(event.time)}</td>
                <td>
                  <Badge value={event.kind} />
                </td>
                <td>{event.actor.id}</td>
                <td>
                  {event.deletionRequest ? (
                    <Link to={`/requests/${idOf(event.deletionRequest)}`}>
                      {idOf(event.deletionRequest).slice(0, 8)}…
                    </Link>
                  ) : (
                    '—'
                  )}
                </td>
                <td className="details">
                  {Object.entries(event.details)
                    .filter(([, value]) => value !== '')
                    .map(([key, value]) => `${key}=${value}`)
                    .join(' · ')}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <LoadMore pages={events} />
    </section>
  );
};

/** The chain's verification, on demand (it reads the whole log). */
const Verification = () => {
  const verify = useMutation({ mutationFn: () => api.verifyAuditLog.query({}) });
  const result = verify.data;
  return (
    <div className="verification">
      <button type="button" onClick={() => verify.mutate()} disabled={verify.isPending}>
        {verify.isPending ? 'Verifying…' : 'Verify the chain'}
      </button>
      {verify.isError && (
        <p role="alert" className="error">
          {describeError(verify.error)}
        </p>
      )}
      {result && (
        <div>
          <p className={result.intact ? 'verified' : 'error'}>
            {result.intact
              ? `✔ Intact: ${String(result.events)} events, each chained to the one before.`
              : `✘ Broken at event ${String(result.firstBadSequence)} (${result.problem}).`}
          </p>
          <p className={result.completeness.complete ? 'verified' : 'error'}>
            {result.completeness.complete
              ? `✔ Complete: ${String(result.completeness.eventsExpected)} events expected of ${String(result.completeness.requestsChecked)} requests, all present`
              : `✘ ${String(result.completeness.gapCount)} events missing`}
            {result.completeness.eventsOwed > 0 &&
              ` (${String(result.completeness.eventsOwed)} on their way)`}
            .
          </p>
          {result.completeness.gaps.length > 0 && (
            <ul className="gaps">
              {result.completeness.gaps.map((gap) => (
                <li key={gap.key}>
                  <Link to={`/requests/${idOf(gap.deletionRequest)}`}>
                    {idOf(gap.deletionRequest).slice(0, 8)}…
                  </Link>{' '}
                  {gap.kind}: {gap.what} ({when(gap.time)})
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
};
