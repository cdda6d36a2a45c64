import { useInfiniteQuery } from '@tanstack/react-query';
import { api, describeError, type Inputs, type RequestView } from '../api.js';
import { Badge, idOf, Pending, relative, STATES, useNow } from '../format.js';
import { Link, navigate, useLocation } from '../router.js';

type State = RequestView['state'];

/** The queue's filters, kept in the screen's URL (so a view can be shared), never a credential. */
const filtersOf = (query: URLSearchParams): { readonly state: State | undefined } => {
  const state = query.get('state');
  return { state: STATES.find((candidate) => candidate === state) };
};

/**
 * Requests newest first, filtered by state. Pages are keyset pages (the
 * service's page token names where the last one ended), so new requests
 * arriving meanwhile never shift or repeat what is loaded.
 */
export const QueueScreen = () => {
  const { query } = useLocation();
  const filters = filtersOf(query);
  const pages = useInfiniteQuery({
    queryKey: ['requests', filters],
    queryFn: ({ pageParam }) => {
      const input: Inputs['listDeletionRequests'] = {
        pageSize: 25,
        ...(pageParam !== '' && { pageToken: pageParam }),
        ...(filters.state !== undefined && { state: filters.state }),
      };
      return api.listDeletionRequests.query(input);
    },
    initialPageParam: '',
    getNextPageParam: (last) => (last.nextPageToken === '' ? undefined : last.nextPageToken),
    refetchInterval: 15_000,
  });
  const requests = pages.data?.pages.flatMap((page) => page.deletionRequests) ?? [];
  return (
    <section>
      <h1>Queue</h1>
      <div className="filters">
        <label>
          State{' '}
          <select
            aria-label="State"
            value={filters.state ?? ''}
            onChange={(event) =>
              navigate(event.target.value === '' ? '/' : `/?state=${event.target.value}`)
            }
          >
            <option value="">any</option>
            {STATES.map((state) => (
              <option key={state} value={state}>
                {state}
              </option>
            ))}
          </select>
        </label>
      </div>
      {pages.isPending || pages.isError ? (
        <Pending error={pages.isError ? describeError(pages.error) : null} />
      ) : (
        <RequestTable requests={requests} />
      )}
      {pages.hasNextPage && (
        <button
          type="button"
          onClick={() => void pages.fetchNextPage()}
          disabled={pages.isFetchingNextPage}
        >
          Load more
        </button>
      )}
    </section>
  );
};

/** Requests as rows: id, state, jurisdiction, deadline, the linked services still owed. */
export const RequestTable = ({ requests }: { readonly requests: readonly RequestView[] }) => {
  const now = useNow();
  if (requests.length === 0) return <p className="muted">No requests.</p>;
  return (
    <table className="requests">
      <thead>
        <tr>
          <th>Request</th>
          <th>State</th>
          <th>Jurisdiction</th>
          <th>Created</th>
          <th>Legal deadline</th>
          <th>Linked services</th>
        </tr>
      </thead>
      <tbody>
        {requests.map((request) => {
          const deadline = new Date(request.legalDeadline);
          const waiting = request.participants.filter((step) => step.status !== 'DONE');
          return (
            <tr key={request.name}>
              <td>
                <Link to={`/requests/${idOf(request.name)}`}>{idOf(request.name)}</Link>
              </td>
              <td>
                <Badge value={request.state} />
              </td>
              <td>{request.jurisdiction}</td>
              <td title={request.createTime}>{relative(new Date(request.createTime), now)}</td>
              <td
                title={request.legalDeadline}
                className={deadline.getTime() < now ? 'overdue' : ''}
              >
                {deadline.toLocaleDateString()} ({relative(deadline, now)})
              </td>
              <td>
                {waiting.length === 0
                  ? '—'
                  : waiting.map((step) => `${step.participant} (${step.status})`).join(', ')}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
};
