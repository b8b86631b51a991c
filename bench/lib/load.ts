/**
 * Load generation: a fixed number of calls in flight, or calls started at a fixed rate (open loop:
 * a slow answer never delays the next start), with retries of what the API server asks to retry.
 */
import { statusCodeOf } from '../../src/k8s/api-errors.ts';

export interface CallStats {
  retries: number;
  /** Calls that failed even after retrying, with the first few messages. */
  failures: number;
  readonly messages: string[];
}

export const newCallStats = (): CallStats => ({ retries: 0, failures: 0, messages: [] });

const RETRYABLE = new Set([429, 500, 502, 503, 504]);
const MAX_ATTEMPTS = 8;

/** Retries 429 (API Priority and Fairness), 5xx and connection errors, with a short growing pause. */
export async function withRetry<T>(stats: CallStats, call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const code = statusCodeOf(error);
      const retryable = code === undefined || RETRYABLE.has(code);
      if (!retryable || attempt >= MAX_ATTEMPTS) throw error;
      stats.retries++;
      await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt));
    }
  }
}

/** Runs `task(0 … count-1)` with at most `concurrency` in flight; a failing task is counted, not fatal. */
export async function inFlight(
  count: number,
  concurrency: number,
  stats: CallStats,
  task: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      await task(index).catch((error: unknown) => {
        recordFailure(stats, error);
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/**
 * Starts `task(i)` at `i / ratePerSecond` seconds (open loop, checked every 2 ms), and resolves once
 * every task has finished.
 */
export async function atFixedRate(
  count: number,
  ratePerSecond: number,
  stats: CallStats,
  task: (index: number) => Promise<void>,
): Promise<{ lateStartsMs: number }> {
  const started = performance.now();
  const running: Promise<void>[] = [];
  let lateStartsMs = 0;
  let next = 0;
  while (next < count) {
    const due = started + (next * 1000) / ratePerSecond;
    const now = performance.now();
    if (now < due) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(2, due - now)));
      continue;
    }
    lateStartsMs = Math.max(lateStartsMs, now - due);
    running.push(
      task(next).catch((error: unknown) => {
        recordFailure(stats, error);
      }),
    );
    next++;
  }
  await Promise.all(running);
  return { lateStartsMs };
}

function recordFailure(stats: CallStats, error: unknown): void {
  stats.failures++;
  if (stats.messages.length < 5) stats.messages.push(error instanceof Error ? error.message : String(error));
}
