/** Exponential backoff with jitter for retrying one failing item (a work-queue key, a lease renewal). */
export interface BackoffOptions {
  /** Delay after the first failure. */
  readonly baseMs: number;
  /** Upper bound of any delay, jitter included. */
  readonly maxMs: number;
  /** Fraction (0..1) of the delay that is randomised away, so keys that failed together spread out. */
  readonly jitter: number;
}

/**
 * 5 ms as in client-go: most failures are optimistic-concurrency conflicts that succeed on the next
 * try. The cap is 5 minutes instead of client-go's 1000 s because someone is waiting for an approval:
 * a request stuck behind a flaky API server or Slack should be retried within minutes, and 5 minutes
 * still keeps a permanently failing key down to a dozen attempts an hour. The cap is reached on the
 * 17th retry, about 5.5 minutes after the first failure.
 */
export const DEFAULT_BACKOFF_BASE_MS = 5;
export const DEFAULT_BACKOFF_MAX_MS = 5 * 60 * 1000;
/** Up to 20% shorter: enough to break up a burst of keys failing at once, little enough to stay predictable. */
export const DEFAULT_BACKOFF_JITTER = 0.2;

export const DEFAULT_BACKOFF: BackoffOptions = {
  baseMs: DEFAULT_BACKOFF_BASE_MS,
  maxMs: DEFAULT_BACKOFF_MAX_MS,
  jitter: DEFAULT_BACKOFF_JITTER,
};

/**
 * The delay before retry number `failures + 1`: base·2^failures, capped at max, then shortened by a
 * random share of at most `jitter` (the cap stays a hard upper bound). `failures` counts the failures
 * before this one, so the first retry waits about `baseMs`.
 */
export function backoffDelay(
  failures: number,
  options: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const exponent = failures > 0 ? Math.floor(failures) : 0;
  const exponential = options.baseMs * 2 ** exponent;
  const capped = Math.min(options.maxMs, exponential);
  const jitter = clamp(options.jitter, 0, 1);
  return capped * (1 - jitter * clamp(random(), 0, 1));
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
