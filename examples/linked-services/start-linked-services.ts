import type { ParticipantServer } from '../../clients/participant-sdk/create-participant-server.js';
import { createAnalyticsService } from './analytics.js';
import { createBillingService } from './billing.js';
import { createMessagingService } from './messaging.js';

/** Where the example services listen and what they need. */
export interface LinkedServicesOptions {
  readonly host?: string;
  /** Ports of billing, messaging and analytics (0: any free port). */
  readonly ports?: readonly [number, number, number];
  /** Subjects the examples hold data for (others get NOTHING_FOUND). */
  readonly subjects: readonly string[];
  /** The deletion service's gRPC address, for analytics' later report (a function: asked then). */
  readonly deletionService: string | (() => string);
  /** A token for analytics' report: `sub` = `analytics`, scope `deletion:participant`. */
  readonly token: () => Promise<string>;
  /** How long analytics' batch job takes (default 2 s). */
  readonly analyticsJobDelayMs?: number;
}

/** The running examples and their registration, ready for the `PARTICIPANTS` setting. */
export interface LinkedServices {
  readonly participants: readonly {
    readonly name: string;
    readonly address: string;
    readonly phases: readonly ('suspend' | 'restore' | 'erase')[];
    readonly after: readonly string[];
    /** What the registry says of it: the data it holds, its owner, the basis it keeps data on. */
    readonly categories: readonly string[];
    readonly owner: { readonly team: string };
    readonly legalBasis?: string;
  }[];
  close(): Promise<void>;
}

/** What each example holds and who owns it, as a company's registry would say. */
const REGISTRY: Readonly<
  Record<
    string,
    Pick<LinkedServices['participants'][number], 'categories' | 'owner' | 'legalBasis'>
  >
> = {
  billing: {
    categories: ['payment_methods', 'invoices'],
    owner: { team: 'payments' },
    legalBasis: 'Tax law: invoices are kept for 10 years (AO §147, HGB §257)',
  },
  messaging: { categories: ['messages', 'attachments'], owner: { team: 'messaging' } },
  analytics: { categories: ['events'], owner: { team: 'data-platform' } },
};

/**
 * Starts the three example linked services: billing (retains invoices),
 * messaging (erases), analytics (accepts, reports later; it takes part in
 * the purge only, after messaging, to show `phases` and `after`).
 */
export const startLinkedServices = async (
  options: LinkedServicesOptions,
): Promise<LinkedServices> => {
  const host = options.host ?? '127.0.0.1';
  const [billingPort, messagingPort, analyticsPort] = options.ports ?? [0, 0, 0];
  const everyPhase = ['suspend', 'restore', 'erase'] as const;
  const services: [
    string,
    ParticipantServer,
    number,
    LinkedServices['participants'][number]['phases'],
    string[],
  ][] = [
    ['billing', createBillingService(options.subjects), billingPort, everyPhase, []],
    ['messaging', createMessagingService(options.subjects), messagingPort, everyPhase, []],
    [
      'analytics',
      createAnalyticsService({
        subjects: options.subjects,
        deletionService: options.deletionService,
        token: options.token,
        ...(options.analyticsJobDelayMs === undefined
          ? {}
          : { jobDelayMs: options.analyticsJobDelayMs }),
      }),
      analyticsPort,
      ['erase'],
      ['messaging'],
    ],
  ];
  const participants = [];
  try {
    for (const [name, server, port, phases, after] of services) {
      const bound = await server.listen(host, port);
      participants.push({
        name,
        address: `${host}:${String(bound)}`,
        phases,
        after,
        ...(REGISTRY[name] ?? { categories: [], owner: { team: 'unknown' } }),
      });
    }
  } catch (error) {
    await Promise.all(services.map(([, server]) => server.close()));
    throw error;
  }
  return {
    participants,
    close: async () => {
      await Promise.all(services.map(([, server]) => server.close()));
    },
  };
};
