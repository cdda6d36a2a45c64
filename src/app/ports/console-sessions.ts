/** The credential a console session carries: a bearer token or an API key, as the caller gave it. */
export type ConsoleCredential =
  | { readonly kind: 'token'; readonly value: string }
  | { readonly kind: 'apiKey'; readonly value: string };

/**
 * The console's sign-ins, kept by the service: the browser holds only an
 * unguessable session id (its cookie), so signing out ends the session for
 * whoever holds a copy, and no credential ever sits in the browser.
 */
export interface ConsoleSessionStore {
  /** Starts a session for a checked credential; the id the cookie carries. */
  start(credential: ConsoleCredential, now: Date): Promise<string>;
  /** The credential of a live session; null when the id names none (ended, expired, unknown). */
  find(id: string, now: Date): Promise<ConsoleCredential | null>;
  /** Ends the session (nothing when there is none). */
  end(id: string): Promise<void>;
  /** How long a session lasts from its start. */
  readonly ttlMs: number;
}
