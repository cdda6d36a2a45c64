import { useSyncExternalStore, type MouseEvent, type ReactNode } from 'react';

/** The console's screens live under /console; the path after it picks the screen. */
const BASE = '/console';

const listeners = new Set<() => void>();
const subscribe = (listener: () => void): (() => void) => {
  listeners.add(listener);
  window.addEventListener('popstate', listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('popstate', listener);
  };
};
const snapshot = (): string => window.location.pathname + window.location.search;

/** Goes to a screen of the console (a path after /console, with its query). */
export const navigate = (to: string): void => {
  window.history.pushState(null, '', BASE + to);
  for (const listener of listeners) listener();
};

/** The current screen: its path after /console and its query parameters. */
export const useLocation = (): { readonly path: string; readonly query: URLSearchParams } => {
  const current = useSyncExternalStore(subscribe, snapshot);
  const url = new URL(current, window.location.origin);
  const path = url.pathname.startsWith(BASE) ? url.pathname.slice(BASE.length) : url.pathname;
  return { path: path === '' ? '/' : path, query: url.searchParams };
};

/** A link to a screen: a real link (open in a new tab works), followed without a reload. */
export const Link = ({
  to,
  children,
  className,
}: {
  readonly to: string;
  readonly children: ReactNode;
  readonly className?: string;
}) => {
  const follow = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={BASE + to} onClick={follow} className={className}>
      {children}
    </a>
  );
};
