interface Waiter {
  /** Re-evaluates the condition; settles the waiter when it holds. */
  readonly recheck: () => void;
  readonly cancel: (reason: Error) => void;
}

/** JavaScript truthiness: what `if (value)` accepts. */
function isReached<T>(value: T): value is NonNullable<T> {
  return Boolean(value);
}

/**
 * Wakes waiters whenever the emulator's state changes (a call answered, a message posted, a client
 * connected or acked), so tests await conditions instead of polling.
 */
export class ChangeFeed {
  readonly #waiters = new Set<Waiter>();

  notify(): void {
    for (const waiter of [...this.#waiters]) waiter.recheck();
  }

  /**
   * Resolves with the first truthy value of `check`, checking now and after every change; rejects after
   * `timeoutMs`, or with what `check` throws.
   */
  waitFor<T>(check: () => T, timeoutMs: number, description = 'condition'): Promise<NonNullable<T>> {
    return new Promise((resolve, reject) => {
      const settle = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
      };
      const waiter: Waiter = {
        recheck: () => {
          try {
            const value = check();
            if (!isReached(value)) return;
            settle();
            resolve(value);
          } catch (error) {
            settle();
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        },
        cancel: (reason) => {
          settle();
          reject(reason);
        },
      };
      const timer = setTimeout(() => {
        waiter.cancel(new Error(`slack emulator: ${description} not reached within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.add(waiter);
      waiter.recheck();
    });
  }

  /** Rejects every pending waiter, e.g. when the emulator closes. */
  cancelAll(reason: Error): void {
    for (const waiter of [...this.#waiters]) waiter.cancel(reason);
  }
}
