import type { RequestView } from './api.js';
import { useSyncExternalStore, type ReactNode } from 'react';

/** A time as the console shows it: local date and time to the second, and how long ago. */
export const when = (iso: string | null | undefined): string => {
  if (!iso) return '—';
  const date = new Date(iso);
  return `${date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' })} (${relative(date)})`;
};

/** The time screens count from, moved on every 15 s (outside rendering, so renders stay pure). */
let tick = Date.now();
const ticking = new Set<() => void>();
setInterval(() => {
  tick = Date.now();
  for (const listener of ticking) listener();
}, 15_000);
const onTick = (listener: () => void): (() => void) => {
  ticking.add(listener);
  return () => ticking.delete(listener);
};

/** Now, as screens show it: updated every 15 s. */
export const useNow = (): number => useSyncExternalStore(onTick, () => tick);

/** "in 3 days", "2 h ago". */
export const relative = (date: Date, now = tick): string => {
  const ms = date.getTime() - now;
  const abs = Math.abs(ms);
  const [amount, unit] =
    abs < 60_000
      ? [Math.round(abs / 1000), 's']
      : abs < 3_600_000
        ? [Math.round(abs / 60_000), 'min']
        : abs < 86_400_000
          ? [Math.round(abs / 3_600_000), 'h']
          : [Math.round(abs / 86_400_000), 'd'];
  return ms >= 0 ? `in ${String(amount)} ${unit}` : `${String(amount)} ${unit} ago`;
};

/** The id of a request name (`deletionRequests/<id>`). */
export const idOf = (name: string): string => name.slice(name.indexOf('/') + 1);

/** A state or status, coloured by what it asks of a person. */
export const Badge = ({ value }: { readonly value: string }) => (
  <span className={`badge badge-${value.toLowerCase()}`}>{value.replaceAll('_', ' ')}</span>
);

/** A trace id, linked to the trace backend when one is configured. */
export const TraceLink = ({
  traceId,
  template,
}: {
  readonly traceId: string;
  readonly template: string | null;
}) => {
  if (!traceId) return <span className="muted">—</span>;
  const short = `${traceId.slice(0, 8)}…`;
  if (template === null)
    return (
      <code title={traceId} className="trace">
        {short}
      </code>
    );
  return (
    <a
      className="trace"
      title={traceId}
      href={template.replaceAll('{traceId}', traceId)}
      target="_blank"
      rel="noreferrer noopener"
    >
      {short}
    </a>
  );
};

/** A labelled value of a definition list. */
export const Field = ({
  label,
  children,
}: {
  readonly label: string;
  readonly children: ReactNode;
}) => (
  <>
    <dt>{label}</dt>
    <dd>{children}</dd>
  </>
);

/** What a screen shows while loading, or when its call failed. */
export const Pending = ({ error }: { readonly error?: string | null | undefined }) =>
  error ? (
    <p role="alert" className="error">
      {error}
    </p>
  ) : (
    <p className="muted">Loading…</p>
  );

type State = RequestView['state'];

/** Every state of a deletion request, in lifecycle order (a new state does not compile until added). */
const ORDER: Readonly<Record<State, number>> = {
  REQUESTED: 0,
  AWAITING_APPROVAL: 1,
  SCHEDULED: 2,
  RESTORED: 3,
  ERASING: 4,
  NEEDS_ATTENTION: 5,
  COMPLETED: 6,
  CANCELLED: 7,
  REJECTED: 8,
  EXPIRED: 9,
};
export const STATES = (Object.keys(ORDER) as State[]).sort((a, b) => ORDER[a] - ORDER[b]);

/** States a request leaves no more. */
export const FINAL_STATES: readonly State[] = [
  'COMPLETED',
  'CANCELLED',
  'REJECTED',
  'EXPIRED',
  'RESTORED',
];
