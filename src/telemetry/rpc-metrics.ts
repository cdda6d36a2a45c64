import type { Attributes } from '@opentelemetry/api';
import { metricNames } from './catalogue.js';
import { currentInstruments } from './instruments.js';

const instruments = currentInstruments((meter) => ({
  server: meter.createHistogram(metricNames.rpcServerDuration, {
    unit: 'ms',
    description: 'Duration of the calls the service serves (gRPC and tRPC), by method and outcome',
  }),
  client: meter.createHistogram(metricNames.rpcClientDuration, {
    unit: 'ms',
    description: 'Duration of the calls to linked services, by service, method and outcome',
  }),
}));

/** Records one served (`server`) or made (`client`) call; attributes are codes and names only. */
export const recordRpcDuration = (
  side: 'server' | 'client',
  milliseconds: number,
  attributes: Attributes,
): void => {
  instruments()[side].record(milliseconds, attributes);
};
