import { setTimeout as sleep } from 'node:timers/promises';
import { DomainError } from '../domain/domain-error.js';

/** How a channel over an HTTP provider tries: attempts per send, bound of a call, first pause. */
export interface HttpProviderOptions {
  /** Tries per send when the provider is down or throttles (default 3); the caller's back-off does the rest. */
  readonly attempts?: number;
  /** Bound of one HTTP call (default 10 s). */
  readonly timeoutMs?: number;
  /** First pause between tries, doubled each time (default 200 ms); a Retry-After up to 5 s wins. */
  readonly backoffMs?: number;
}

/**
 * A provider's answer that refuses the recipient for good: a bad request (an
 * invalid number), gone (an unregistered device), unprocessable. Anything
 * else (our credentials refused, a wrong URL, throttling, its own failure) is
 * ours or its to fix, and tried again: never a reason to give up on the subject.
 */
const refusesRecipient = (status: number): boolean =>
  status === 400 || status === 410 || status === 422;

const RETRY_AFTER_CAP_MS = 5_000;

/** A Retry-After header in seconds (the provider's wish), or the back-off. */
const pauseAfter = (response: Response | null, backoffMs: number): number => {
  const seconds = Number(response?.headers.get('retry-after') ?? Number.NaN);
  return Number.isFinite(seconds) && seconds >= 0
    ? Math.min(seconds * 1000, RETRY_AFTER_CAP_MS)
    : backoffMs;
};

/**
 * Sends one message about a request to an HTTP provider (`request` builds
 * the call; it gets the timeout's signal) and returns the JSON of a 2xx answer (`{}` if it has
 * none). A 400, 410 or 422 is FAILED_PRECONDITION (the address is refused);
 * any other failure (network, timeout, 401, 403, 404, 429, 5xx) is tried
 * again a few times, then UNAVAILABLE. Errors name the request and the
 * status, never the address or the text.
 */
export const deliverOverHttp = async (
  provider: HttpProviderOptions & {
    readonly what: 'SMS provider' | 'push gateway' | 'owner webhook';
  },
  about: { readonly deletionRequestId: string },
  request: (signal: AbortSignal) => Promise<Response>,
): Promise<Readonly<Record<string, unknown>>> => {
  const { what, ...options } = provider;
  const attempts = options.attempts ?? 3;
  let backoffMs = options.backoffMs ?? 200;
  const failure = (
    code: 'UNAVAILABLE' | 'FAILED_PRECONDITION',
    status: number | undefined,
    cause?: unknown,
  ) =>
    new DomainError({
      code,
      reason: code === 'UNAVAILABLE' ? 'NOTIFIER_UNAVAILABLE' : 'ADDRESS_REJECTED',
      message:
        code === 'UNAVAILABLE'
          ? `the ${what} did not accept the message`
          : `the ${what} refused the address for good`,
      metadata: {
        deletionRequest: about.deletionRequestId,
        ...(status !== undefined && { status: String(status) }),
      },
      cause,
    });
  for (let attempt = 1; ; attempt += 1) {
    let response: Response | null = null;
    let cause: unknown;
    try {
      response = await request(AbortSignal.timeout(options.timeoutMs ?? 10_000));
    } catch (error) {
      cause = error;
    }
    if (response?.ok === true) {
      const body: unknown = await response.json().catch(() => ({}));
      return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    }
    await response?.body?.cancel();
    if (response !== null && refusesRecipient(response.status))
      throw failure('FAILED_PRECONDITION', response.status);
    if (attempt >= attempts) throw failure('UNAVAILABLE', response?.status, cause);
    await sleep(pauseAfter(response, backoffMs));
    backoffMs *= 2;
  }
};
