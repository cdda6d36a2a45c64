import { metrics, type Attributes, type Histogram, type MeterProvider } from '@opentelemetry/api';

interface Instruments {
  readonly provider: MeterProvider;
  readonly server: Histogram;
  readonly client: Histogram;
}

let current: Instruments | undefined;

/**
 * The RPC duration histograms, from the global meter provider as it is now:
 * the API has no proxy for meters, so instruments made before an SDK registered
 * would stay no-ops. Without an SDK they are no-ops and cost next to nothing.
 */
const instruments = (): Instruments => {
  const provider = metrics.getMeterProvider();
  if (current?.provider === provider) return current;
  const meter = provider.getMeter('account-deletion-service');
  current = {
    provider,
    server: meter.createHistogram('rpc.server.duration', {
      unit: 'ms',
      description:
        'Duration of the calls the service serves (gRPC and tRPC), by method and outcome',
    }),
    client: meter.createHistogram('rpc.client.duration', {
      unit: 'ms',
      description: 'Duration of the calls to linked services, by service, method and outcome',
    }),
  };
  return current;
};

/** Records one served (`server`) or made (`client`) call; attributes are codes and names only. */
export const recordRpcDuration = (
  side: 'server' | 'client',
  milliseconds: number,
  attributes: Attributes,
): void => {
  instruments()[side].record(milliseconds, attributes);
};
