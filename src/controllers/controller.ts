import type { ReconcileMetrics } from '../observability/metrics.ts';
import { runWorkers, type WorkQueue } from '../runtime/workqueue.ts';

/** What a reconcile asks for next (controller-runtime's reconcile.Result). */
export interface ReconcileOutcome {
  /** Try again soon, with the key's backoff (a conflict: someone wrote the object meanwhile). */
  readonly requeue?: boolean;
  /** Look again after this long (re-evaluation, expiry), regardless of events. */
  readonly requeueAfterMs?: number;
}

export type Reconcile = (key: string) => Promise<ReconcileOutcome>;

/** `namespace/name` ↔ parts. */
export const Keys = {
  of: (namespace: string | undefined, name: string | undefined): string => `${namespace ?? ''}/${name ?? ''}`,
  parse: (key: string): { namespace: string; name: string } => {
    const slash = key.indexOf('/');
    return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
  },
};

/**
 * Runs a reconciler over a work queue with `concurrency` workers: each key is reconciled from the
 * current state (never from the event that queued it), failures back off per key, and every
 * reconcile is counted and timed under controller-runtime's metric names.
 */
export function runController(options: {
  readonly queue: WorkQueue;
  readonly reconcile: Reconcile;
  readonly concurrency: number;
  readonly metrics: ReconcileMetrics;
  readonly signal: AbortSignal;
  readonly onError: (key: string, error: unknown) => void;
}): Promise<void> {
  const { queue, reconcile, metrics } = options;
  return runWorkers(
    queue,
    options.concurrency,
    async (key) => {
      const started = performance.now();
      const seconds = (): number => (performance.now() - started) / 1000;
      let outcome: ReconcileOutcome;
      try {
        outcome = await reconcile(key);
      } catch (error) {
        metrics.observe('error', seconds());
        throw error;
      }
      if (outcome.requeue) {
        metrics.observe('requeue', seconds());
        queue.addRateLimited(key);
      } else if (outcome.requeueAfterMs !== undefined) {
        metrics.observe('requeue_after', seconds());
        queue.addAfter(key, outcome.requeueAfterMs);
      } else {
        metrics.observe('success', seconds());
      }
    },
    { signal: options.signal, onError: options.onError },
  );
}
