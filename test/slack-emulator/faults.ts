/**
 * Failures a test can inject into the next calls of a Web API method:
 * - `{ error }`: a platform error, HTTP 200 `{ ok: false, error }` (WebClient: `WebAPIPlatformError`);
 * - `'ratelimited'` or `{ ratelimited: seconds }`: HTTP 429 with `Retry-After` (default 1 s);
 * - `'http500'`: HTTP 500 (WebClient: `WebAPIHTTPError`, which it retries);
 * - `'timeout'`: the request is accepted and never answered (until `resetFaults()` or `close()`), so
 *   the client's own timeout fires;
 * - `'lost-answer'`: like `'timeout'`, but the call is carried out first (the message is posted): Slack
 *   did the work and the answer was lost, so a client that simply retries posts twice;
 * - `'reset'`: the connection is destroyed without an answer (WebClient: `WebAPIRequestError`).
 */
export type Failure =
  | { readonly error: string }
  | { readonly ratelimited: number }
  | 'ratelimited'
  | 'http500'
  | 'timeout'
  | 'lost-answer'
  | 'reset';

/** `failNext('*', …)` fails the next call of any method. */
export const ANY_METHOD = '*';

interface PendingFailure {
  readonly method: string;
  readonly failure: Failure;
  remaining: number;
}

/** Failures queued per method, consumed in the order they were queued. */
export class FaultQueue {
  #pending: PendingFailure[] = [];

  add(method: string, failure: Failure, times: number): void {
    if (!Number.isInteger(times) || times < 1)
      throw new RangeError(`times must be a positive integer, got ${times}`);
    this.#pending.push({ method, failure, remaining: times });
  }

  /** The failure for this call of `method`, if one is queued; it is used up. */
  take(method: string): Failure | undefined {
    const next = this.#pending.find((pending) => pending.method === method || pending.method === ANY_METHOD);
    if (next === undefined) return undefined;
    next.remaining -= 1;
    if (next.remaining === 0) this.#pending = this.#pending.filter((pending) => pending !== next);
    return next.failure;
  }

  clear(): void {
    this.#pending = [];
  }
}
