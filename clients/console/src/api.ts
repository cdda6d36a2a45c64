import {
  createDeletionClient,
  isDeletionClientError,
  type DeletionInputs,
  type DeletionOutputs,
} from '@account-deletion/trpc-client';

/**
 * The header every call of the console carries: the service counts the
 * session cookie only on calls that have it, which a cross-site form or link
 * cannot send.
 */
const CONSOLE_HEADER = { 'x-console-request': '1' } as const;

/**
 * The typed tRPC client, signed in by the session cookie (HttpOnly: this
 * script never sees a token, and none goes in a URL or in storage).
 */
export const api = createDeletionClient({
  url: new URL('/trpc', window.location.origin).href,
  headers: CONSOLE_HEADER,
});

export type Outputs = DeletionOutputs;
export type Inputs = DeletionInputs;
export type RequestView = Outputs['getDeletionRequest'];
export type Operation = keyof Outputs | 'watchDeletionRequest';

/** Who is signed in, and what their scopes allow. */
export interface Viewer {
  readonly actor: { readonly kind: string; readonly id: string };
  readonly scopes: readonly string[];
  readonly allowed: readonly string[];
  readonly traceUrlTemplate: string | null;
}

/** A refusal of the session endpoints. */
export class SessionError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const session = async (path: string, init: RequestInit = {}): Promise<Response> =>
  fetch(`/console/session${path}`, {
    ...init,
    credentials: 'same-origin',
    headers: { ...CONSOLE_HEADER, 'content-type': 'application/json' },
  });

/** Who is signed in; null when no one is (or the session ended). */
export const currentViewer = async (): Promise<Viewer | null> => {
  const response = await session('');
  if (response.status === 401) return null;
  if (!response.ok) throw new SessionError(response.status, await messageOf(response));
  return (await response.json()) as Viewer;
};

/** Signs in with a bearer token or an API key; the service keeps it in an HttpOnly cookie. */
export const signIn = async (credential: string): Promise<Viewer> => {
  const response = await session('', {
    method: 'POST',
    body: JSON.stringify({ credential }),
  });
  if (!response.ok) throw new SessionError(response.status, await messageOf(response));
  return (await response.json()) as Viewer;
};

export const signOut = async (): Promise<void> => {
  await session('/end', { method: 'POST' });
};

const messageOf = async (response: Response): Promise<string> => {
  if (response.status === 429) return 'Too many failed sign-ins from here; wait a minute.';
  if (response.status === 401) return 'Those credentials are not valid.';
  try {
    const body = (await response.json()) as { error?: string };
    return body.error ?? `The service answered ${String(response.status)}.`;
  } catch {
    return `The service answered ${String(response.status)}.`;
  }
};

/** What to show of a failed call: the service's message, and its reason when it gives one. */
export const describeError = (error: unknown): string => {
  if (isDeletionClientError(error)) {
    const reason = error.data?.reason;
    return reason ? `${error.message} (${reason})` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
};

/** Whether a call failed because the session is over. */
export const isSignedOut = (error: unknown): boolean =>
  isDeletionClientError(error) && error.data?.code === 'UNAUTHORIZED';
