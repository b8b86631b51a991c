import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '../errors.ts';
import { isConflict, isNotFound } from '../k8s/api-errors.ts';
import { KubeHttp, type CallOptions, type ClusterAccess } from '../k8s/kube-http.ts';

/** client-go's and controller-runtime's defaults: a new leader within 15–17 s of a crash. */
export const DEFAULT_LEASE_DURATION_MS = 15_000;
export const DEFAULT_RENEW_DEADLINE_MS = 10_000;
export const DEFAULT_RETRY_PERIOD_MS = 2_000;
/** Candidates retry up to this share later than the retry period, so they do not poll in step. */
const CANDIDATE_JITTER = 0.2;

export interface LeaderElectionOptions {
  readonly kubeConfig: ClusterAccess;
  /** Where the coordination.k8s.io/v1 Lease lives, and its name. */
  readonly namespace: string;
  readonly name: string;
  /** Unique per process (the pod name): who holds the lease. */
  readonly identity: string;
  /** How long others wait after the last renewal they saw before taking the lease over. */
  readonly leaseDurationMs?: number;
  /** How long the leader keeps leading without a successful renewal; shorter than the lease duration. */
  readonly renewDeadlineMs?: number;
  /** How often the leader renews, and candidates try to acquire. */
  readonly retryPeriodMs?: number;
  readonly onStartedLeading: () => void;
  readonly onStoppedLeading: () => void;
  readonly onNewLeader?: (identity: string) => void;
  readonly isLeaderGauge?: (leading: boolean) => void;
  /** Failed API calls (other than lost races), for logs; the elector retries on its own. */
  readonly onError?: (error: unknown) => void;
}

/** A Lease's spec, with its MicroTimes as epoch milliseconds. */
export interface LeaseRecord {
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTimeMs: number | undefined;
  readonly renewTimeMs: number | undefined;
  readonly leaseTransitions: number;
}

/**
 * A lease record and when this process first saw it in that state, on its own monotonic clock. Expiry
 * is judged from `observedAt`, never from the holder's `renewTime`, so clock skew between machines
 * cannot make a valid lease look expired.
 */
export interface ObservedLease {
  readonly record: LeaseRecord;
  readonly observedAt: number;
}

/** A coordination.k8s.io/v1 Lease's spec; times are MicroTimes when written, strings when read. */
export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: Date | string;
  renewTime?: Date | string;
  leaseTransitions?: number;
}

/** A Lease as read and written (raw JSON; metadata carries the resourceVersion a write checks). */
export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string } & Record<string, unknown>;
  spec?: LeaseSpec;
}

/**
 * A Date that serializes as a Kubernetes MicroTime: the API server accepts exactly six fractional
 * digits, and a plain Date serializes with three (`toISOString`) and is refused with 400.
 */
export class MicroTime extends Date {
  override toISOString(): string {
    return super.toISOString().replace(/Z$/, '000Z');
  }
}

/** A MicroTime for a Lease field. */
export function microTime(epochMs: number): MicroTime {
  return new MicroTime(epochMs);
}

/** A MicroTime as read back: the string the server sent (or a Date, from a caller). */
export function epochMsOf(time: unknown): number | undefined {
  const ms = time instanceof Date ? time.getTime() : typeof time === 'string' ? Date.parse(time) : Number.NaN;
  return Number.isNaN(ms) ? undefined : ms;
}

export function leaseRecordOf(spec: LeaseSpec | undefined): LeaseRecord {
  return {
    holderIdentity: spec?.holderIdentity ?? '',
    leaseDurationSeconds: spec?.leaseDurationSeconds ?? 0,
    acquireTimeMs: epochMsOf(spec?.acquireTime),
    renewTimeMs: epochMsOf(spec?.renewTime),
    leaseTransitions: spec?.leaseTransitions ?? 0,
  };
}

/** Keeps the earlier observation while the record is unchanged, so its expiry keeps counting down. */
export function observe(
  previous: ObservedLease | undefined,
  record: LeaseRecord,
  now: number,
): ObservedLease {
  return previous && sameRecord(previous.record, record) ? previous : { record, observedAt: now };
}

function sameRecord(a: LeaseRecord, b: LeaseRecord): boolean {
  return (
    a.holderIdentity === b.holderIdentity &&
    a.renewTimeMs === b.renewTimeMs &&
    a.acquireTimeMs === b.acquireTimeMs &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.leaseTransitions === b.leaseTransitions
  );
}

/**
 * Whether someone else holds the lease: it names another holder, and less than its lease duration has
 * passed since we saw it change. An empty holder (a released lease) is free at once.
 */
export function heldByAnother(observed: ObservedLease, identity: string, now: number): boolean {
  const { holderIdentity, leaseDurationSeconds } = observed.record;
  if (holderIdentity === '' || holderIdentity === identity) return false;
  return now < observed.observedAt + leaseDurationSeconds * 1000;
}

/** The spec that claims (or renews) the lease for `identity` at wall-clock time `nowMs`. */
export function claimedSpec(
  current: LeaseRecord | undefined,
  identity: string,
  leaseDurationSeconds: number,
  nowMs: number,
): LeaseSpec {
  const renewing = current?.holderIdentity === identity;
  const transitions = current?.leaseTransitions ?? 0;
  return {
    holderIdentity: identity,
    leaseDurationSeconds,
    acquireTime: microTime((renewing ? current.acquireTimeMs : undefined) ?? nowMs),
    renewTime: microTime(nowMs),
    leaseTransitions: renewing || current === undefined ? transitions : transitions + 1,
  };
}

/** The spec that hands the lease over: no holder, and a 1 s duration for whoever reads the old form. */
export function releasedSpec(current: LeaseRecord, nowMs: number): LeaseSpec {
  return {
    holderIdentity: '',
    leaseDurationSeconds: 1,
    acquireTime: microTime(nowMs),
    renewTime: microTime(nowMs),
    leaseTransitions: current.leaseTransitions,
  };
}

interface Timing {
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

function timingOf(options: LeaderElectionOptions): Timing {
  const timing = {
    leaseDurationMs: options.leaseDurationMs ?? DEFAULT_LEASE_DURATION_MS,
    renewDeadlineMs: options.renewDeadlineMs ?? DEFAULT_RENEW_DEADLINE_MS,
    retryPeriodMs: options.retryPeriodMs ?? DEFAULT_RETRY_PERIOD_MS,
  };
  if (!(timing.retryPeriodMs > 0)) throw new ConfigError('leader election: retry period must be positive');
  if (!(timing.renewDeadlineMs > timing.retryPeriodMs * (1 + CANDIDATE_JITTER)))
    throw new ConfigError('leader election: renew deadline must be longer than 1.2 × the retry period');
  if (!(timing.leaseDurationMs > timing.renewDeadlineMs))
    throw new ConfigError('leader election: lease duration must be longer than the renew deadline');
  if (options.identity === '') throw new ConfigError('leader election: identity must not be empty');
  return timing;
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics: the leader renews
 * every retry period and stops leading when it has not renewed for the renew deadline (before anyone
 * else may take over); candidates take the lease once it is free, released, or unchanged for its
 * duration as measured on their own clock.
 */
export class LeaderElector {
  readonly #options: LeaderElectionOptions;
  readonly #timing: Timing;
  readonly #http: KubeHttp;
  readonly #leaseDurationSeconds: number;
  /** Wakes the run loop from its pause when the lease is released. */
  readonly #stop = new AbortController();
  #observed: ObservedLease | undefined;
  #reportedLeader = '';
  #leading = false;
  #everLed = false;
  /** performance.now() until which the last successful renewal lets us write (the renew deadline). */
  #writableUntil = 0;
  /** performance.now() by which every write we sent must have landed (see `writeWindowMs`). */
  #landBy = 0;
  #released = false;
  #renewDeadline: NodeJS.Timeout | undefined;
  #attempt: Promise<boolean> = Promise.resolve(false);

  constructor(options: LeaderElectionOptions) {
    this.#options = options;
    this.#timing = timingOf(options);
    this.#leaseDurationSeconds = Math.ceil(this.#timing.leaseDurationMs / 1000);
    this.#http = KubeHttp.for(options.kubeConfig);
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  /**
   * The write fence (KubeHttp.setWriteFence): a process that never led may write (a standby takes
   * people's answers); one that led may write only until its renew deadline, counted on the monotonic
   * clock from the start of its last successful renewal, and never again once it saw the lease lost.
   * The deadline is shorter than the lease, so no other replica can have taken over by then.
   */
  writesAllowed(): boolean {
    return !this.#everLed || performance.now() < this.#writableUntil;
  }

  /**
   * How long a write sent now may still take effect, in milliseconds: KubeHttp passes it to the API
   * server as the write's `timeout`, and the server gives up on the write after that. The fence above
   * only decides whether a write leaves; a write that waits inside the API server (etcd down, a
   * priority-and-fairness queue) could otherwise land after the lease expired and another replica
   * took over. Halfway between the renew deadline and the lease's expiry, counted from the start of
   * the last successful renewal: the other half is slack for etcd committing a write the server
   * had already passed on when it gave up. Undefined (no bound) for a process that never led; 0 once
   * the fence is shut.
   */
  writeWindowMs(): number | undefined {
    if (!this.#everLed) return undefined;
    const now = performance.now();
    return now < this.#writableUntil ? Math.max(0, this.#landBy - now) : 0;
  }

  /** Who holds the lease as last seen, if anyone. */
  get leader(): string | undefined {
    const holder = this.#observed?.record.holderIdentity;
    return holder === '' ? undefined : holder;
  }

  /**
   * Campaigns for the lease and, once leading, renews it, until the signal aborts or the lease is
   * released. After losing the lease it campaigns again. Aborting stops leading (onStoppedLeading)
   * without touching the lease: others take over once it expires; call `release` to hand over at once.
   */
  async run(signal: AbortSignal): Promise<void> {
    const pauseSignal = AbortSignal.any([signal, this.#stop.signal]);
    this.#options.isLeaderGauge?.(false);
    try {
      while (!pauseSignal.aborted) {
        const startedAt = performance.now();
        this.#attempt = this.#tryAcquireOrRenew(signal);
        const held = await this.#attempt;
        if (!signal.aborted) this.#settle(held, startedAt);
        await pause(this.#pauseMs(), pauseSignal);
      }
    } finally {
      // Stopped by the caller (shutdown): in-flight work may still write until the renew deadline.
      this.#stepDown({ lost: false });
    }
  }

  /**
   * Stops leading and, if we still hold the lease, clears its holder so a candidate takes over on its
   * next try instead of waiting for the lease to expire. Ends the elector: `run` returns and never
   * campaigns again. Resolves whether the lease was handed over.
   */
  async release(): Promise<boolean> {
    this.#released = true;
    this.#stop.abort();
    this.#stepDown({ lost: true });
    await this.#attempt;
    try {
      const requestOptions = { signal: AbortSignal.timeout(this.#timing.renewDeadlineMs) };
      const lease = await this.#read(requestOptions);
      const record = leaseRecordOf(lease?.spec);
      if (lease === undefined || record.holderIdentity !== this.#options.identity) return false;
      const released = await this.#replace(withSpec(lease, releasedSpec(record, Date.now())), requestOptions);
      this.#see(released, performance.now());
      return true;
    } catch (error) {
      this.#options.onError?.(error);
      return false;
    }
  }

  async #tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    try {
      const timeout = AbortSignal.timeout(this.#timing.renewDeadlineMs);
      return await this.#acquireOrRenew({ signal: AbortSignal.any([signal, timeout]) });
    } catch (error) {
      if (!isConflict(error) && !signal.aborted) this.#options.onError?.(error);
      return false;
    }
  }

  async #acquireOrRenew(requestOptions: CallOptions): Promise<boolean> {
    const { identity, namespace, name } = this.#options;
    const lease = await this.#read(requestOptions);
    if (lease === undefined) {
      const spec = claimedSpec(undefined, identity, this.#leaseDurationSeconds, Date.now());
      const created = await this.#http.json<Lease>(
        'POST',
        leasesPath(namespace),
        { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec },
        { ...requestOptions, unfenced: true },
      );
      this.#see(created, performance.now());
      return true;
    }
    const observed = this.#see(lease, performance.now());
    if (heldByAnother(observed, identity, performance.now())) return false;
    const spec = claimedSpec(observed.record, identity, this.#leaseDurationSeconds, Date.now());
    this.#see(await this.#replace(withSpec(lease, spec), requestOptions), performance.now());
    return true;
  }

  async #read(requestOptions: CallOptions): Promise<Lease | undefined> {
    try {
      return await this.#http.json<Lease>('GET', this.#leasePath(), undefined, requestOptions);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** Writes with the resourceVersion we read: if anyone wrote in between, the server answers 409. */
  #replace(lease: Lease, requestOptions: CallOptions): Promise<Lease> {
    return this.#http.json<Lease>('PUT', this.#leasePath(), lease, { ...requestOptions, unfenced: true });
  }

  #leasePath(): string {
    return `${leasesPath(this.#options.namespace)}/${encodeURIComponent(this.#options.name)}`;
  }

  #see(lease: Lease, now: number): ObservedLease {
    const observed = observe(this.#observed, leaseRecordOf(lease.spec), now);
    this.#observed = observed;
    const holder = observed.record.holderIdentity;
    if (holder !== this.#reportedLeader) {
      this.#reportedLeader = holder;
      if (holder !== '') this.#options.onNewLeader?.(holder);
    }
    return observed;
  }

  #settle(held: boolean, startedAt: number): void {
    if (this.#released) return;
    if (held) {
      this.#renewed(startedAt);
      return;
    }
    // A failed renewal is retried until the deadline; a lease seen in other hands is lost now.
    const observed = this.#observed;
    if (observed && heldByAnother(observed, this.#options.identity, performance.now()))
      this.#stepDown({ lost: true });
  }

  /**
   * Counts the renew deadline from when the successful attempt started: others can only have seen
   * the renewal after that, so we stop before the lease can expire in their eyes.
   */
  #renewed(startedAt: number): void {
    const remaining = startedAt + this.#timing.renewDeadlineMs - performance.now();
    clearTimeout(this.#renewDeadline);
    if (remaining <= 0) {
      this.#stepDown({ lost: true });
      return;
    }
    const { renewDeadlineMs, leaseDurationMs } = this.#timing;
    this.#writableUntil = startedAt + renewDeadlineMs;
    this.#landBy = startedAt + (renewDeadlineMs + leaseDurationMs) / 2;
    this.#renewDeadline = setTimeout(() => {
      this.#stepDown({ lost: true });
    }, remaining).unref();
    if (this.#leading) return;
    this.#leading = true;
    this.#everLed = true;
    this.#options.isLeaderGauge?.(true);
    this.#options.onStartedLeading();
  }

  #stepDown({ lost }: { readonly lost: boolean }): void {
    if (lost) this.#writableUntil = 0;
    clearTimeout(this.#renewDeadline);
    this.#renewDeadline = undefined;
    if (!this.#leading) return;
    this.#leading = false;
    this.#options.isLeaderGauge?.(false);
    this.#options.onStoppedLeading();
  }

  #pauseMs(): number {
    const { retryPeriodMs } = this.#timing;
    return this.#leading ? retryPeriodMs : retryPeriodMs * (1 + CANDIDATE_JITTER * Math.random());
  }
}

/** A copy of the lease as read (metadata and resourceVersion included) with a new spec. */
function withSpec(lease: Lease, spec: LeaseSpec): Lease {
  return { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease, spec };
}

function leasesPath(namespace: string): string {
  return `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
}

async function pause(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch (error) {
    if (!signal.aborted) throw error;
  }
}
