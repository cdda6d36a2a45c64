import { useQuery } from '@tanstack/react-query';
import { api, describeError } from '../api.js';
import { Pending } from '../format.js';

/** The registry as this replica runs it: each linked service's owner, data, order and basis. */
export const LinkedServicesScreen = () => {
  const services = useQuery({
    queryKey: ['linked-services'],
    queryFn: () => api.listLinkedServices.query({}),
  });
  if (services.isPending || services.isError)
    return <Pending error={services.isError ? describeError(services.error) : null} />;
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
            <th>Phases</th>
            <th>After</th>
            <th>Attempts</th>
          </tr>
        </thead>
        <tbody>
          {services.data.map((service) => (
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
              <td>{service.phases.join(', ')}</td>
              <td>{service.after.join(', ') || '—'}</td>
              <td>{service.maxAttempts}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
};
