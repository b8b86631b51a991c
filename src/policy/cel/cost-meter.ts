/**
 * Counts the cost units one evaluation spends and stops it at its limit. Once exceeded, a meter stays
 * exceeded: every later charge fails too, so an expression that swallows the error (`... || true`)
 * cannot keep running, and evaluate() reports the overrun whatever value the expression produced.
 */
export class CostMeter {
  readonly limit: number;
  #spent = 0;
  #overrun: string | undefined;

  constructor(limit: number) {
    this.limit = limit;
  }

  get spent(): number {
    return this.#spent;
  }

  get remaining(): number {
    return Math.max(0, this.limit - this.#spent);
  }

  /** The message describing why evaluation was stopped, once it has been. */
  get overrun(): string | undefined {
    return this.#overrun;
  }

  /** Records `units` of work about to be done by `operation`; throws once the limit is passed. */
  charge(units: number, operation: string): void {
    this.#spent += units;
    if (this.#overrun !== undefined || this.#spent > this.limit) {
      this.#stop(`cost limit exceeded: more than ${this.limit} cost units spent (last in ${operation})`);
    }
  }

  /** Stops evaluation because a value would grow past a size limit. */
  refuse(reason: string): never {
    this.#stop(`cost limit exceeded: ${reason}`);
  }

  #stop(message: string): never {
    this.#overrun ??= message;
    throw new Error(this.#overrun);
  }
}

let active: CostMeter | undefined;

/** Runs one evaluation with `meter` as the meter that metered functions charge. */
export function runMetered<T>(meter: CostMeter, run: () => T): T {
  const previous = active;
  active = meter;
  try {
    return run();
  } finally {
    active = previous;
  }
}

/** The meter of the evaluation in progress; metered functions are only ever called during one. */
export function activeMeter(): CostMeter {
  if (active === undefined) throw new Error('a metered CEL function was called outside evaluate()');
  return active;
}
