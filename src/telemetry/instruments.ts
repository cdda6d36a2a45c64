import { metrics, type Meter, type MeterProvider } from '@opentelemetry/api';

/**
 * Instruments made from the global meter provider as it is now, and made again
 * when it changes: the API has no proxy for meters, so instruments made before
 * an SDK registered would stay no-ops. Without an SDK they are no-ops and cost
 * next to nothing.
 */
export const currentInstruments = <T>(make: (meter: Meter) => T): (() => T) => {
  let current: { readonly provider: MeterProvider; readonly instruments: T } | undefined;
  return () => {
    const provider = metrics.getMeterProvider();
    if (current?.provider !== provider)
      current = { provider, instruments: make(provider.getMeter('account-deletion-service')) };
    return current.instruments;
  };
};
