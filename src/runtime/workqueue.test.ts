import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../errors.ts';
import { runWorkers, WorkQueue, type WorkQueueMetrics } from './workqueue.ts';

const noJitter = { baseMs: 10, maxMs: 1000, jitter: 0 };

/** Takes every key that is waiting now, marking each done, in the order the queue hands them out. */
async function drainNow(queue: WorkQueue): Promise<string[]> {
  const keys: string[] = [];
  while (queue.len() > 0) {
    const key = await queue.get();
    if (key === undefined) break;
    keys.push(key);
    queue.done(key);
  }
  return keys;
}

/** Whether a promise has settled, after letting pending callbacks run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise<void>((resolve) => setImmediate(resolve));
  return done;
}

describe('WorkQueue', () => {
  it('queues a key once however often it is added before being handed out', async () => {
    const queue = new WorkQueue();
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/a');
    expect(queue.len()).toBe(2);
    expect(await drainNow(queue)).toEqual(['ns/a', 'ns/b']);
  });

  it('holds back a key added while it is processed, and hands it out again after done', async () => {
    const queue = new WorkQueue();
    queue.add('ns/a');
    expect(await queue.get()).toBe('ns/a');
    queue.add('ns/a');
    queue.add('ns/a');
    expect(queue.len()).toBe(0);
    const next = queue.get();
    expect(await settled(next)).toBe(false);
    queue.done('ns/a');
    expect(await next).toBe('ns/a');
    queue.done('ns/a');
    expect(queue.len()).toBe(0);
  });

  it('ignores done for a key that is not being processed', async () => {
    const queue = new WorkQueue();
    queue.add('ns/a');
    queue.done('ns/a');
    queue.done('ns/unknown');
    expect(await drainNow(queue)).toEqual(['ns/a']);
  });

  it('hands a key to a waiting get as soon as it is added', async () => {
    const queue = new WorkQueue();
    const first = queue.get();
    const second = queue.get();
    queue.add('ns/a');
    queue.add('ns/b');
    expect([await first, await second]).toEqual(['ns/a', 'ns/b']);
  });

  it('never runs one key twice at the same time, with four workers and keys re-added mid-run', async () => {
    const queue = new WorkQueue();
    const keys = ['ns/a', 'ns/b', 'ns/c', 'ns/d', 'ns/e'];
    const running = new Map<string, number>();
    let overlaps = 0;
    let mostAtOnce = 0;
    let step = 0;
    const lastAdded = new Map<string, number>();
    const lastStarted = new Map<string, number>();
    const add = (key: string): void => {
      lastAdded.set(key, ++step);
      queue.add(key);
    };
    const yieldToOthers = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

    const workers = runWorkers(queue, 4, async (key) => {
      lastStarted.set(key, ++step);
      running.set(key, (running.get(key) ?? 0) + 1);
      if ((running.get(key) ?? 0) > 1) overlaps += 1;
      mostAtOnce = Math.max(
        mostAtOnce,
        [...running.values()].reduce((sum, n) => sum + n, 0),
      );
      await yieldToOthers();
      add(keys[step % keys.length] ?? 'ns/a');
      await yieldToOthers();
      running.set(key, (running.get(key) ?? 1) - 1);
    });
    for (let round = 0; round < 40; round += 1) {
      for (const key of keys) add(key);
      await yieldToOthers();
    }
    await vi.waitFor(() => {
      for (const key of keys) expect(lastStarted.get(key) ?? 0).toBeGreaterThan(lastAdded.get(key) ?? 0);
    });
    queue.shutDown();
    await workers;

    expect(overlaps).toBe(0);
    expect(mostAtOnce).toBeGreaterThan(1);
    expect(mostAtOnce).toBeLessThanOrEqual(4);
  });

  describe('with a clock', () => {
    beforeEach(() => {
      vi.useFakeTimers();
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it('re-adds a failing key after a backoff that doubles until forget', async () => {
      const queue = new WorkQueue({ backoff: noJitter });
      const retryAfter = async (expectedMs: number): Promise<void> => {
        queue.addRateLimited('ns/a');
        vi.advanceTimersByTime(expectedMs - 1);
        expect(queue.len()).toBe(0);
        vi.advanceTimersByTime(1);
        expect(await drainNow(queue)).toEqual(['ns/a']);
      };

      await retryAfter(10);
      await retryAfter(20);
      await retryAfter(40);
      expect(queue.numRequeues('ns/a')).toBe(3);
      expect(queue.numRequeues('ns/b')).toBe(0);

      queue.forget('ns/a');
      expect(queue.numRequeues('ns/a')).toBe(0);
      await retryAfter(10);
    });

    it('caps the backoff at its maximum', async () => {
      const queue = new WorkQueue({ backoff: { baseMs: 10, maxMs: 50, jitter: 0 } });
      for (let failure = 0; failure < 5; failure += 1) {
        queue.addRateLimited('ns/a');
        vi.advanceTimersByTime(1000);
        await drainNow(queue);
      }
      queue.addRateLimited('ns/a');
      vi.advanceTimersByTime(49);
      expect(queue.len()).toBe(0);
      vi.advanceTimersByTime(1);
      expect(queue.len()).toBe(1);
    });

    it('serves fresh keys before retries whose backoff has passed', async () => {
      const queue = new WorkQueue({ backoff: noJitter });
      queue.addRateLimited('ns/retry-1');
      queue.addRateLimited('ns/retry-2');
      vi.advanceTimersByTime(10);
      queue.add('ns/fresh-1');
      queue.addAfter('ns/scheduled', 5);
      vi.advanceTimersByTime(5);
      queue.add('ns/fresh-2');
      expect(await drainNow(queue)).toEqual([
        'ns/fresh-1',
        'ns/scheduled',
        'ns/fresh-2',
        'ns/retry-1',
        'ns/retry-2',
      ]);
    });

    it('moves a key waiting for its retry to the fresh lane when it is added as new work', async () => {
      const queue = new WorkQueue({ backoff: noJitter });
      queue.addRateLimited('ns/a');
      queue.addRateLimited('ns/b');
      vi.advanceTimersByTime(10);
      queue.add('ns/b');
      queue.add('ns/c');
      expect(queue.len()).toBe(3);
      expect(await drainNow(queue)).toEqual(['ns/b', 'ns/c', 'ns/a']);
    });

    it('keeps the earliest of several delays for one key', async () => {
      const queue = new WorkQueue();
      queue.addAfter('ns/a', 100);
      queue.addAfter('ns/a', 50);
      queue.addAfter('ns/a', 80);
      vi.advanceTimersByTime(49);
      expect(queue.len()).toBe(0);
      vi.advanceTimersByTime(1);
      expect(await drainNow(queue)).toEqual(['ns/a']);
      vi.advanceTimersByTime(1000);
      expect(queue.len()).toBe(0);
      expect(vi.getTimerCount()).toBe(0);
    });

    it('adds at once when the delay is zero or negative', () => {
      const queue = new WorkQueue();
      queue.addAfter('ns/a', 0);
      queue.addAfter('ns/b', -5);
      expect(queue.len()).toBe(2);
    });

    it('waits out delays longer than a timer can hold (about 24.8 days)', () => {
      const queue = new WorkQueue();
      const day = 24 * 60 * 60 * 1000;
      queue.addAfter('ns/expires-in-30-days', 30 * day);
      vi.advanceTimersByTime(30 * day - 1);
      expect(queue.len()).toBe(0);
      vi.advanceTimersByTime(1);
      expect(queue.len()).toBe(1);
    });

    it('reports adds, depth, time in queue and retries to its metrics', async () => {
      const recorded = { adds: 0, depths: [] as number[], durations: [] as number[], retries: 0 };
      const metrics: WorkQueueMetrics = {
        add: () => void (recorded.adds += 1),
        depth: (n) => void recorded.depths.push(n),
        queueDuration: (seconds) => void recorded.durations.push(seconds),
        retry: () => void (recorded.retries += 1),
      };
      const queue = new WorkQueue({ metrics, backoff: noJitter });
      queue.add('ns/a');
      queue.add('ns/a');
      queue.add('ns/b');
      expect(recorded.adds).toBe(2);
      expect(recorded.depths.at(-1)).toBe(2);
      vi.advanceTimersByTime(1500);
      expect(await queue.get()).toBe('ns/a');
      expect(recorded.durations).toEqual([1.5]);
      expect(recorded.depths.at(-1)).toBe(1);
      queue.done('ns/a');
      queue.addRateLimited('ns/a');
      expect(recorded.retries).toBe(1);
      vi.advanceTimersByTime(10);
      expect(recorded.adds).toBe(3);
      expect(recorded.depths.at(-1)).toBe(2);
    });

    it('clears its timers on shutdown, so nothing keeps the process alive', () => {
      const queue = new WorkQueue({ backoff: noJitter });
      queue.addAfter('ns/a', 60_000);
      queue.addRateLimited('ns/b');
      expect(vi.getTimerCount()).toBe(2);
      queue.shutDown();
      expect(vi.getTimerCount()).toBe(0);
      vi.advanceTimersByTime(60_000);
      expect(queue.len()).toBe(0);
    });

    it('lets a worker retry a failing key with backoff and resets the backoff once it succeeds', async () => {
      const queue = new WorkQueue({ backoff: noJitter });
      const attempts: number[] = [];
      const errors: string[] = [];
      const workers = runWorkers(
        queue,
        2,
        (key) => {
          attempts.push(Date.now());
          if (attempts.length < 4) return Promise.reject(new Error(`attempt ${attempts.length} failed`));
          expect(queue.numRequeues(key)).toBe(3);
          return Promise.resolve();
        },
        { onError: (key, error) => errors.push(`${key}: ${(error as Error).message}`) },
      );
      const start = Date.now();
      queue.add('ns/a');
      await vi.advanceTimersByTimeAsync(1000);
      expect(attempts.map((at) => at - start)).toEqual([0, 10, 30, 70]);
      expect(errors).toEqual(['ns/a: attempt 1 failed', 'ns/a: attempt 2 failed', 'ns/a: attempt 3 failed']);
      expect(queue.numRequeues('ns/a')).toBe(0);
      queue.shutDown();
      await workers;
    });
  });

  describe('shutting down', () => {
    it('wakes waiting getters with undefined', async () => {
      const queue = new WorkQueue();
      const waiting = [queue.get(), queue.get()];
      queue.shutDown();
      expect(await Promise.all(waiting)).toEqual([undefined, undefined]);
      expect(await queue.get()).toBeUndefined();
      expect(queue.shuttingDown).toBe(true);
    });

    it('refuses new keys but still hands out the ones already waiting', async () => {
      const queue = new WorkQueue();
      queue.add('ns/a');
      queue.shutDown();
      queue.add('ns/b');
      queue.addAfter('ns/c', 0);
      queue.addRateLimited('ns/d');
      expect(await queue.get()).toBe('ns/a');
      expect(await queue.get()).toBeUndefined();
    });

    it('with drain, waits for the keys being processed and drops those not yet started', async () => {
      const queue = new WorkQueue();
      queue.add('ns/a');
      queue.add('ns/b');
      queue.add('ns/c');
      expect(await queue.get()).toBe('ns/a');
      expect(await queue.get()).toBe('ns/b');
      queue.add('ns/a');

      const drained = queue.shutDownWithDrain();
      expect(await queue.get()).toBeUndefined();
      queue.done('ns/a');
      expect(await settled(drained)).toBe(false);
      expect(queue.len()).toBe(0);
      queue.done('ns/b');
      expect(await settled(drained)).toBe(true);
      expect(await queue.get()).toBeUndefined();
    });

    it('with drain and nothing in flight, resolves at once', async () => {
      const queue = new WorkQueue();
      queue.add('ns/a');
      await queue.shutDownWithDrain();
      expect(await queue.get()).toBeUndefined();
    });

    it('stops the workers when the signal aborts, after their keys in flight are done', async () => {
      const queue = new WorkQueue();
      const controller = new AbortController();
      const started: string[] = [];
      const finished: string[] = [];
      const release = Promise.withResolvers<undefined>();
      const workers = runWorkers(
        queue,
        2,
        async (key) => {
          started.push(key);
          await release.promise;
          finished.push(key);
        },
        { signal: controller.signal },
      );
      for (const key of ['ns/a', 'ns/b', 'ns/c']) queue.add(key);
      await vi.waitFor(() => {
        expect(started).toHaveLength(2);
      });
      controller.abort();
      expect(await settled(workers)).toBe(false);
      release.resolve(undefined);
      await workers;
      expect(finished).toEqual(['ns/a', 'ns/b']);
      expect(started).toEqual(['ns/a', 'ns/b']);
    });

    it('does not start workers when the signal is already aborted', async () => {
      const queue = new WorkQueue();
      queue.add('ns/a');
      const handled: string[] = [];
      await runWorkers(
        queue,
        1,
        (key) => {
          handled.push(key);
          return Promise.resolve();
        },
        { signal: AbortSignal.abort() },
      );
      expect(handled).toEqual([]);
    });

    it('refuses a worker count below one', async () => {
      const queue = new WorkQueue();
      await expect(runWorkers(queue, 0, () => Promise.resolve())).rejects.toBeInstanceOf(ConfigError);
      await expect(runWorkers(queue, 1.5, () => Promise.resolve())).rejects.toBeInstanceOf(ConfigError);
    });
  });
});
