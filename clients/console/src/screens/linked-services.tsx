import { useQuery } from '@tanstack/react-query';
import { api, describeError } from '../api.js';
import { useAllowed } from '../viewer.js';
import { Pending } from '../format.js';
import { Link } from '../router.js';
import { queueAt } from './queue.js';
import { useLinkedServices } from '../linked-services.js';

const millis = (value: number | null): string =>
  value === null ? '—' : `${String(Math.round(value))} ms`;

/**
 * The registry as this replica runs it (owner, data categories, legal basis,
 * order), with what waits on each service, what needs attention because of
 * it, and its recent calls as this replica saw them.
 */
export const LinkedServicesScreen = () => {
  const readsHealth = useAllowed('getLinkedServiceHealth');
  const services = useLinkedServices();
  const health = useQuery({
    queryKey: ['linked-service-health'],
    queryFn: () => api.getLinkedServiceHealth.query(),
    enabled: readsHealth,
    refetchInterval: 15_000,
  });
  if (services.isPending || services.isError)
    return <Pending error={services.isError ? describeError(services.error) : null} />;
  const healthOf = new Map((health.data?.linkedServices ?? []).map((entry) => [entry.name, entry]));
  return (
    <section>
      <h1>Linked services</h1>
      <table className="services">
        <thead>
          <tr>
            <th>Service</th>
            <th>Owner</th>
            <th>Data categories</th>
            <th>Legal basis for keeping</th>
            <th>Waiting on it</th>
            <th>Needs attention</th>
            <th>Recent calls (this replica)</th>
            <th>Phases · after · attempts</th>
          </tr>
        </thead>
        <tbody>
          {services.data.map((service) => {
            const seen = healthOf.get(service.name);
            const recent = seen?.recentCalls;
            return (
              <tr key={service.name}>
                <td>{service.name}</td>
                <td>
                  {service.owner === null ? (
                    <span className="error">no owner registered</span>
                  ) : (
                    <>
                      {service.owner.team}
                      {!service.owner.alertsConfigured && (
                        <span className="muted"> (no alert webhook)</span>
                      )}
                    </>
                  )}
                </td>
                <td>
                  {service.categories.length === 0 ? 'all it holds' : service.categories.join(', ')}
                </td>
                <td>{service.legalBasis ?? '—'}</td>
                <td>
                  {seen === undefined ? (
                    '—'
                  ) : (
                    <Link
                      to={queueAt({
                        state: undefined,
                        jurisdiction: undefined,
                        linkedService: service.name,
                        step: 'WAITING',
                      })}
                    >
                      {seen.waiting}
                    </Link>
                  )}
                </td>
                <td className={seen !== undefined && seen.needingAttention > 0 ? 'overdue' : ''}>
                  {seen === undefined ? (
                    '—'
                  ) : (
                    <Link
                      to={queueAt({
                        state: 'NEEDS_ATTENTION',
                        jurisdiction: undefined,
                        linkedService: service.name,
                        step: 'FAILED',
                      })}
                    >
                      {seen.needingAttention}
                    </Link>
                  )}
                </td>
                <td>
                  {recent === undefined
                    ? '—'
                    : `${String(recent.calls)} calls, ${String(recent.failures)} failed, p50 ${millis(recent.p50Ms)}, p95 ${millis(recent.p95Ms)} (last ${String(Math.round(recent.windowMs / 60_000))} min)`}
                </td>
                <td>
                  {service.phases.join(', ')} · {service.after.join(', ') || '—'} ·{' '}
                  {service.maxAttempts}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
};
