import { ConfigError } from '../errors.ts';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts';

/**
 * Hooks for the client-go work-queue metrics (workqueue_adds_total, workqueue_depth,
 * workqueue_queue_duration_seconds, workqueue_retries_total); the prom-client wiring lives elsewhere.
 */
export interface WorkQueueMetrics {
  add(): void;
  depth(n: number): void;
  queueDuration(seconds: number): void;
  retry(): void;
}

export const NO_METRICS: WorkQueueMetrics = {
  add: () => undefined,
  depth: () => undefined,
  queueDuration: () => undefined,
  retry: () => undefined,
};

export interface WorkQueueOptions {
  readonly backoff?: BackoffOptions;
  readonly metrics?: WorkQueueMetrics;
  /** A monotonic clock in milliseconds. */
  readonly now?: () => number;
  readonly random?: () => number;
}

/** Fresh work (`add`, `addAfter`) is always served before rate-limited retries. */
type Lane = 'fresh' | 'retry';

interface Pending {
  lane: Lane;
  readonly addedAt: number;
}

interface Delayed {
  readonly readyAt: number;
  readonly lane: Lane;
  timer: NodeJS.Timeout;
}

/** setTimeout fires at once for longer delays; longer waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A rate-limited work queue of `namespace/name` keys, with client-go's guarantees: a key waits in the
 * queue at most once, and a key is never handed out again before `done` is called for it (an `add`
 * while it is processed re-queues it after `done`), so one key never runs twice at the same time.
 */
export class WorkQueue {
  readonly #lanes: Record<Lane, Set<string>> = { fresh: new Set(), retry: new Set() };
  /** Keys that need processing: waiting in a lane, or added again while being processed. */
  readonly #pending = new Map<string, Pending>();
  readonly #processing = new Set<string>();
  readonly #delayed = new Map<string, Delayed>();
  readonly #failures = new Map<string, number>();
  readonly #getters: ((key: string | undefined) => void)[] = [];
  readonly #drainWaiters: (() => void)[] = [];
  readonly #backoff: BackoffOptions;
  readonly #metrics: WorkQueueMetrics;
  readonly #now: () => number;
  readonly #random: () => number;
  #shuttingDown = false;
  #droppingBacklog = false;

  constructor(options: WorkQueueOptions = {}) {
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#metrics = options.metrics ?? NO_METRICS;
    this.#now = options.now ?? (() => performance.now());
    this.#random = options.random ?? Math.random;
  }

  add(key: string): void {
    this.#enqueue(key, 'fresh');
  }

  /** Adds the key once `delayMs` has passed; of several pending delays for one key the earliest wins. */
  addAfter(key: string, delayMs: number): void {
    this.#schedule(key, delayMs, 'fresh');
  }

  /** Adds the key again after its backoff delay, which doubles with each call until `forget`. */
  addRateLimited(key: string): void {
    if (this.#shuttingDown) return;
    const failures = this.numRequeues(key);
    this.#failures.set(key, failures + 1);
    this.#metrics.retry();
    this.#schedule(key, backoffDelay(failures, this.#backoff, this.#random), 'retry');
  }

  /** Resets the key's backoff, after it was processed successfully. */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** The next key to process; `undefined` once the queue is shut down and nothing is left to hand out. */
  get(): Promise<string | undefined> {
    const key = this.#take();
    if (key !== undefined || this.#shuttingDown) return Promise.resolve(key);
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  /** Marks the key as processed; if it was added meanwhile, it goes back into the queue. */
  done(key: string): void {
    if (!this.#processing.delete(key)) return;
    const pending = this.#pending.get(key);
    if (pending && this.#droppingBacklog) this.#pending.delete(key);
    else if (pending) this.#lanes[pending.lane].add(key);
    this.#changed();
    if (this.#processing.size > 0) return;
    for (const resolve of this.#drainWaiters.splice(0)) resolve();
  }

  /** Keys waiting to be handed out (not counting delayed keys or keys being processed). */
  len(): number {
    return this.#lanes.fresh.size + this.#lanes.retry.size;
  }

  /** Whether any key waits or is being processed. */
  busy(): boolean {
    return this.len() > 0 || this.#processing.size > 0;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /**
   * Stops accepting keys and drops delayed ones; `get` still hands out the keys already waiting, then
   * resolves `undefined`.
   */
  shutDown(): void {
    this.#shuttingDown = true;
    for (const delayed of this.#delayed.values()) clearTimeout(delayed.timer);
    this.#delayed.clear();
    this.#changed();
  }

  /**
   * Shuts down for a graceful exit: keys not yet handed out are dropped (whoever runs next lists every
   * object again) and the promise resolves once the keys being processed are done.
   */
  async shutDownWithDrain(): Promise<void> {
    this.#droppingBacklog = true;
    for (const lane of Object.values(this.#lanes)) {
      for (const key of lane) this.#pending.delete(key);
      lane.clear();
    }
    this.shutDown();
    if (this.#processing.size === 0) return;
    await new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
  }

  #enqueue(key: string, lane: Lane): void {
    if (this.#shuttingDown) return;
    const pending = this.#pending.get(key);
    if (pending) {
      if (lane === 'fresh') this.#promote(key, pending);
      return;
    }
    this.#pending.set(key, { lane, addedAt: this.#now() });
    this.#metrics.add();
    if (!this.#processing.has(key)) this.#lanes[lane].add(key);
    this.#changed();
  }

  /** A key waiting for its retry that is added as fresh work moves to the fresh lane. */
  #promote(key: string, pending: Pending): void {
    pending.lane = 'fresh';
    if (this.#lanes.retry.delete(key)) this.#lanes.fresh.add(key);
  }

  #schedule(key: string, delayMs: number, lane: Lane): void {
    if (this.#shuttingDown) return;
    if (!(delayMs > 0)) {
      this.#enqueue(key, lane);
      return;
    }
    const readyAt = this.#now() + delayMs;
    const existing = this.#delayed.get(key);
    if (existing && existing.readyAt <= readyAt) return;
    if (existing) clearTimeout(existing.timer);
    const delayed: Delayed = { readyAt, lane, timer: this.#timer(key, delayMs) };
    this.#delayed.set(key, delayed);
  }

  #timer(key: string, delayMs: number): NodeJS.Timeout {
    // unref: a pending "re-evaluate in an hour" must not keep the process alive on its own.
    return setTimeout(
      () => {
        this.#fire(key);
      },
      Math.min(delayMs, MAX_TIMER_MS),
    ).unref();
  }

  #fire(key: string): void {
    const delayed = this.#delayed.get(key);
    if (!delayed) return;
    const remaining = delayed.readyAt - this.#now();
    if (remaining > 0) {
      delayed.timer = this.#timer(key, remaining);
      return;
    }
    this.#delayed.delete(key);
    this.#enqueue(key, delayed.lane);
  }

  #take(): string | undefined {
    const lane = this.#lanes.fresh.size > 0 ? this.#lanes.fresh : this.#lanes.retry;
    const key = firstOf(lane);
    if (key === undefined) return undefined;
    lane.delete(key);
    const pending = this.#pending.get(key);
    this.#pending.delete(key);
    this.#processing.add(key);
    if (pending) this.#metrics.queueDuration((this.#now() - pending.addedAt) / 1000);
    this.#metrics.depth(this.len());
    return key;
  }

  /** Hands waiting keys to waiting getters, and tells getters when nothing more will come. */
  #changed(): void {
    this.#metrics.depth(this.len());
    while (this.#getters.length > 0 && this.len() > 0) {
      this.#getters.shift()?.(this.#take());
    }
    if (!this.#shuttingDown || this.len() > 0) return;
    for (const resolve of this.#getters.splice(0)) resolve(undefined);
  }
}

function firstOf(keys: Set<string>): string | undefined {
  for (const key of keys) return key;
  return undefined;
}

export interface RunWorkersOptions {
  /** Aborting shuts the queue down with drain: keys being processed finish, waiting keys are dropped. */
  readonly signal?: AbortSignal;
  /** Called when the handler rejects; the key has already been re-added with backoff. */
  readonly onError?: (key: string, error: unknown) => void;
}

/**
 * Runs `concurrency` workers that take keys from the queue and process them with `handler`. A key
 * whose handler resolves has its backoff reset; one whose handler rejects is re-added rate-limited.
 * Resolves once the queue is shut down and every worker has finished its last key.
 */
export async function runWorkers(
  queue: WorkQueue,
  concurrency: number,
  handler: (key: string) => Promise<void>,
  options: RunWorkersOptions = {},
): Promise<void> {
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new ConfigError(`worker concurrency must be a positive integer, got ${concurrency}`);
  const { signal, onError } = options;
  const stop = (): void => {
    void queue.shutDownWithDrain();
  };
  if (signal?.aborted) stop();
  signal?.addEventListener('abort', stop, { once: true });
  try {
    await Promise.all(Array.from({ length: concurrency }, () => work(queue, handler, onError)));
  } finally {
    signal?.removeEventListener('abort', stop);
  }
}

async function work(
  queue: WorkQueue,
  handler: (key: string) => Promise<void>,
  onError: RunWorkersOptions['onError'],
): Promise<void> {
  for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
    try {
      await handler(key);
      queue.forget(key);
    } catch (error) {
      queue.addRateLimited(key);
      onError?.(key, error);
    } finally {
      queue.done(key);
    }
  }
}
