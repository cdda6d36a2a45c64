import { keysetPages, LoadMore, pageTokenOf } from '../paging.js';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { api, describeError, type Inputs, type RequestView } from '../api.js';
import { Badge, idOf, Pending, relative, STATES, useNow } from '../format.js';
import { Link, navigate, useLocation } from '../router.js';
import { useLinkedServices } from '../linked-services.js';

type State = RequestView['state'];
type Jurisdiction = NonNullable<Inputs['listDeletionRequests']['jurisdiction']>;
type Step = NonNullable<Inputs['listDeletionRequests']['linkedServiceStep']>;

/** How a request's step at the chosen linked service stands (a new one does not compile until added). */
const STEPS = Object.keys({ WAITING: true, FAILED: true } satisfies Record<Step, true>) as Step[];

/** Every jurisdiction the service knows (a new one does not compile until added). */
const JURISDICTIONS = Object.keys({ GDPR: true, CCPA: true } satisfies Record<
  Jurisdiction,
  true
>) as Jurisdiction[];

/** The queue's filters, kept in the screen's URL (so a view can be shared), never a credential. */
interface Filters {
  readonly state: State | undefined;
  readonly jurisdiction: Jurisdiction | undefined;
  readonly linkedService: string | undefined;
  /** With a linked service: its step waiting (pending, retrying, accepted) or failed. */
  readonly step?: Step | undefined;
}

/** A query parameter's value; undefined when absent or empty (`?service=`). */
const nonEmpty = (value: string | null): string | undefined =>
  value === null || value === '' ? undefined : value;

const filtersOf = (query: URLSearchParams): Filters => ({
  state: STATES.find((state) => state === query.get('state')),
  jurisdiction: JURISDICTIONS.find((jurisdiction) => jurisdiction === query.get('jurisdiction')),
  linkedService: nonEmpty(query.get('service')),
  step: STEPS.find((step) => step === query.get('step')),
});

/** The queue's address with these filters. */
export const queueAt = (filters: Filters): string => {
  const query = new URLSearchParams();
  if (filters.state !== undefined) query.set('state', filters.state);
  if (filters.jurisdiction !== undefined) query.set('jurisdiction', filters.jurisdiction);
  if (filters.linkedService !== undefined) query.set('service', filters.linkedService);
  if (filters.linkedService !== undefined && filters.step !== undefined)
    query.set('step', filters.step);
  const text = query.toString();
  return text === '' ? '/' : `/?${text}`;
};

/**
 * Requests newest first, filtered by state, jurisdiction and linked service,
 * with the number in each state under the same filters (refreshed every
 * 15 s). Pages are keyset pages (the service's page token names where the
 * last one ended), so new requests arriving meanwhile never shift or repeat
 * what is loaded. The list refreshes when asked: each read of it is a
 * privileged read in the audit log.
 */
export const QueueScreen = () => {
  const { query } = useLocation();
  const filters = filtersOf(query);
  const scope = {
    ...(filters.jurisdiction !== undefined && { jurisdiction: filters.jurisdiction }),
    ...(filters.linkedService !== undefined && { linkedService: filters.linkedService }),
    ...(filters.linkedService !== undefined &&
      filters.step !== undefined && { linkedServiceStep: filters.step }),
  };
  const counts = useQuery({
    queryKey: ['counts', scope],
    queryFn: () => api.countDeletionRequests.query(scope),
    refetchInterval: 15_000,
  });
  const services = useLinkedServices();
  const pages = useInfiniteQuery({
    queryKey: ['requests', filters],
    queryFn: ({ pageParam }) => {
      const input: Inputs['listDeletionRequests'] = {
        pageSize: 25,
        ...scope,
        ...pageTokenOf(pageParam),
        ...(filters.state !== undefined && { state: filters.state }),
      };
      return api.listDeletionRequests.query(input);
    },
    ...keysetPages,
  });
  const requests = pages.data?.pages.flatMap((page) => page.deletionRequests) ?? [];
  const choose = (change: Partial<Filters>) => navigate(queueAt({ ...filters, ...change }));
  return (
    <section>
      <h1>Queue</h1>
      {counts.data && (
        <ul className="counts" aria-label="Requests by state">
          {STATES.map((state) => (
            <li key={state} className={filters.state === state ? 'current' : ''}>
              <Link
                to={queueAt({ ...filters, state: filters.state === state ? undefined : state })}
              >
                <Badge value={state} /> <strong>{counts.data.byState[state]}</strong>
              </Link>
            </li>
          ))}
          <li className={counts.data.pastDeadline > 0 ? 'overdue' : ''}>
            <Link to="/deadlines">
              past deadline <strong>{counts.data.pastDeadline}</strong>, due within{' '}
              {counts.data.dueWithinDays} d <strong>{counts.data.dueSoon}</strong>
            </Link>
          </li>
        </ul>
      )}
      <div className="filters">
        <label>
          State{' '}
          <select
            aria-label="State"
            value={filters.state ?? ''}
            onChange={(event) => choose({ state: STATES.find((s) => s === event.target.value) })}
          >
            <option value="">any</option>
            {STATES.map((state) => (
              <option key={state} value={state}>
                {state}
              </option>
            ))}
          </select>
        </label>
        <label>
          Jurisdiction{' '}
          <select
            aria-label="Jurisdiction"
            value={filters.jurisdiction ?? ''}
            onChange={(event) =>
              choose({ jurisdiction: JURISDICTIONS.find((j) => j === event.target.value) })
            }
          >
            <option value="">any</option>
            {JURISDICTIONS.map((jurisdiction) => (
              <option key={jurisdiction}>{jurisdiction}</option>
            ))}
          </select>
        </label>
        <label>
          Waiting on{' '}
          <select
            aria-label="Linked service"
            value={filters.linkedService ?? ''}
            onChange={(event) =>
              choose({
                linkedService: event.target.value === '' ? undefined : event.target.value,
                step: undefined,
              })
            }
          >
            <option value="">any linked service</option>
            {(services.data ?? []).map((service) => (
              <option key={service.name}>{service.name}</option>
            ))}
          </select>
        </label>
        {filters.linkedService !== undefined && (
          <label>
            Its step{' '}
            <select
              aria-label="Step"
              value={filters.step ?? ''}
              onChange={(event) => choose({ step: STEPS.find((s) => s === event.target.value) })}
            >
              <option value="">not done</option>
              {STEPS.map((step) => (
                <option key={step} value={step}>
                  {step.toLowerCase()}
                </option>
              ))}
            </select>
          </label>
        )}
        <button
          type="button"
          className="secondary"
          onClick={() => void pages.refetch()}
          disabled={pages.isFetching}
        >
          Refresh
        </button>
      </div>
      {pages.isPending || pages.isError ? (
        <Pending error={pages.isError ? describeError(pages.error) : null} />
      ) : (
        <RequestTable requests={requests} />
      )}
      <LoadMore pages={pages} />
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
