import { randomBytes } from 'node:crypto';
import { rfc3339 } from '../api/v1alpha1/schema.ts';
import { KubeHttp, NotLeaderError, type ClusterAccess } from './kube-http.ts';

export interface EventTarget {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name?: string;
    readonly namespace?: string;
    readonly uid?: string;
    readonly resourceVersion?: string;
  };
}

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  record(target: EventTarget, type: EventType, reason: string, message: string): Promise<void>;
}

const COMPONENT = 'greenlight-controller';
const MAX_MESSAGE = 1024;

/** Events written at once; more wait in a queue of at most MAX_QUEUED (then the oldest are dropped). */
const MAX_IN_FLIGHT = 4;
const MAX_QUEUED = 1_000;

/**
 * What a queued event keeps until it is written: the involved object's identity and the event's own
 * fields, stamped when it was recorded — not the object it is about (a decided request whole, with
 * its status, several KB), which a reconcile would otherwise leave alive for as long as the event
 * waits (docs/benchmarks.md, F15).
 */
interface PendingEvent {
  readonly involvedObject: {
    readonly apiVersion: string;
    readonly kind: string;
    readonly name: string;
    readonly namespace: string;
    readonly uid?: string;
    readonly resourceVersion?: string;
  };
  readonly type: EventType;
  readonly reason: string;
  readonly message: string;
  readonly at: string;
}

/**
 * The events a process could not write because it is no longer the leader: the ones its fence refused
 * and every one still queued behind them (reported once, not once each).
 */
export class EventsNotRecordedError extends Error {
  readonly count: number;

  constructor(count: number, options: { readonly cause: unknown }) {
    super(`${count} event(s) not recorded: this process is no longer the leader`, options);
    this.name = 'EventsNotRecordedError';
    this.count = count;
  }
}

/**
 * Writes core/v1 Events (what `kubectl describe` and `kubectl events` show) in the background, as
 * client-go's broadcaster does: a reconcile never waits for its event (measured: waiting for it halved
 * throughput, docs/benchmarks.md F2). An event is a courtesy: a failure to record one is reported to
 * `onError` and never fails the reconcile.
 */
export class KubernetesEventRecorder implements EventRecorder {
  readonly #http: KubeHttp;
  readonly #instance: string;
  readonly #onError: (error: unknown) => void;
  readonly #queue: PendingEvent[] = [];
  #inFlight = 0;
  #idle: (() => void)[] = [];
  /** Events the fence kept out since the queue last went idle, and the refusal. */
  #fencedOut: { count: number; cause: NotLeaderError } | undefined;

  constructor(kubeConfig: ClusterAccess, instance: string, onError: (error: unknown) => void) {
    this.#http = KubeHttp.for(kubeConfig);
    this.#instance = instance;
    this.#onError = onError;
  }

  /** Queues the event; resolves at once. */
  record(target: EventTarget, type: EventType, reason: string, message: string): Promise<void> {
    if (this.#queue.length >= MAX_QUEUED) this.#queue.shift();
    const { name = '', namespace = 'default', uid, resourceVersion } = target.metadata;
    this.#queue.push({
      involvedObject: {
        apiVersion: target.apiVersion,
        kind: target.kind,
        name,
        namespace,
        ...(uid ? { uid } : {}),
        ...(resourceVersion ? { resourceVersion } : {}),
      },
      type,
      reason,
      message: message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 1)}…` : message,
      at: rfc3339(new Date()),
    });
    this.#pump();
    return Promise.resolve();
  }

  /** Resolves once every queued event is written (graceful shutdown). */
  flush(): Promise<void> {
    if (this.#inFlight === 0 && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #pump(): void {
    while (this.#inFlight < MAX_IN_FLIGHT && this.#queue.length > 0) {
      const event = this.#queue.shift();
      if (!event) return;
      this.#inFlight += 1;
      void this.#write(event).finally(() => {
        this.#inFlight -= 1;
        this.#pump();
        if (this.#inFlight === 0 && this.#queue.length === 0) this.#wentIdle();
      });
    }
  }

  #wentIdle(): void {
    const fencedOut = this.#fencedOut;
    this.#fencedOut = undefined;
    if (fencedOut) this.#onError(new EventsNotRecordedError(fencedOut.count, { cause: fencedOut.cause }));
    for (const resolve of this.#idle.splice(0)) resolve();
  }

  async #write({ involvedObject, type, reason, message, at }: PendingEvent): Promise<void> {
    const { name, namespace } = involvedObject;
    try {
      // One Event per decision: written through the lean client (docs/benchmarks.md, F10).
      await this.#http.send('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${name}.${randomBytes(8).toString('hex')}`, namespace },
        involvedObject,
        type,
        reason,
        message,
        source: { component: COMPONENT },
        reportingComponent: COMPONENT,
        reportingInstance: this.#instance,
        firstTimestamp: at,
        lastTimestamp: at,
        count: 1,
      });
    } catch (error) {
      if (!(error instanceof NotLeaderError)) {
        this.#onError(error);
        return;
      }
      // The fence stays shut (the process is on its way out): what is queued cannot be written either.
      const count = (this.#fencedOut?.count ?? 0) + 1 + this.#queue.splice(0).length;
      this.#fencedOut = { count, cause: error };
    }
  }
}
