import type { ObjectCache } from '@kubernetes/client-node';
import { backoffDelay } from '../runtime/backoff.ts';
import { apiMessageOf, statusCodeOf } from './api-errors.ts';
import { KubeHttp, type ClusterAccess } from './kube-http.ts';

export interface InformerLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** What an informer holds: raw JSON objects, as the API server sends them. */
export interface InformerObject {
  readonly metadata?:
    { readonly name?: string; readonly namespace?: string; readonly resourceVersion?: string } | undefined;
}

export interface InformerOptions<T extends InformerObject> {
  /** For logs: `approvalrequests`, `apps/v1 Deployment staging`. */
  readonly name: string;
  readonly kubeConfig: ClusterAccess;
  /** The collection's REST path, as for a watch. */
  readonly path: string;
  readonly list: () => Promise<{
    readonly items: readonly T[];
    readonly metadata?: { resourceVersion?: string };
  }>;
  /** Called for every add, update and delete, and for every object at each resync. */
  readonly onChange: (object: T) => void;
  readonly logger?: InformerLogger;
  /** Replays the whole cache this often, so nothing waits forever on a missed event (default 10 min). */
  readonly resyncMs?: number;
  /** Restarts the watch when nothing at all happened for this long (default 3 min). */
  readonly stallMs?: number;
  /**
   * What the cache keeps of each listed or watched object (client-go's SetTransform); `trimmed` by
   * default. It may change the object it is given.
   */
  readonly transform?: (object: T) => T;
  /** A field selector for the watch, read at each (re)start so that it always matches the last list. */
  readonly fieldSelector?: () => string | undefined;
}

/**
 * Between attempts to list and watch again: from half a second, doubling, at most 5 s. Not client-go's
 * 30 s: an API server restarting answers "storage is (re)initializing" for a while, and at 30 s a
 * controller kept waiting up to half a minute after it was ready (the chaos suite's apiserver-kill: a
 * median of 41 s before decisions resumed). A list every 5 s per informer is no load on it.
 */
const RESTART_BACKOFF = { baseMs: 500, maxMs: 5_000, jitter: 0.2 } as const;

/**
 * What the cache keeps of an object: everything but metadata.managedFields, which Greenlight never
 * reads and which is about a third of a request's size (docs/benchmarks.md, F3). A status update
 * without managedFields leaves the server's copy as it is.
 */
export function trimmed<T>(object: T): T {
  const metadata = (object as { metadata?: { managedFields?: unknown } } | null)?.metadata;
  if (metadata?.managedFields !== undefined) delete metadata.managedFields;
  return object;
}

type ListResult<T extends InformerObject> = Awaited<ReturnType<InformerOptions<T>['list']>>;

interface LoopHandlers<T> {
  /** An object added, changed or deleted. */
  readonly change: (object: T) => void;
  /** A list or watch is about to start. */
  readonly connect: () => void;
  /** The API server could not resume the watch from `resourceVersion` (410 Gone): listing again. */
  readonly expired: (resourceVersion: string) => void;
  /** The list or the watch failed; the loop has stopped. */
  readonly error: (error: unknown) => void;
}

/**
 * List, then watch from the list's resourceVersion, keeping a cache by namespace and name — client-node
 * ListWatch's loop, over the lean client (KubeHttp: one timer per watch, no fetch streams;
 * docs/benchmarks.md, F10) and without loading client-node (F12). A watch that ends is resumed from the
 * last resourceVersion seen (after 1 s, doubling to 30 s while nothing arrives); a 410 Gone lists
 * again; any other failure goes to `onError` and the loop stops (ResilientInformer restarts it).
 */
class ListWatchLoop<T extends InformerObject> {
  readonly #http: KubeHttp;
  readonly #path: string;
  readonly #list: () => Promise<ListResult<T>>;
  readonly #transform: (object: T) => T;
  readonly #fieldSelector: () => string | undefined;
  readonly #on: LoopHandlers<T>;
  #objects = new Map<string, Map<string, T>>();
  #resourceVersion = '';
  #request: AbortController | undefined;
  #stopped = false;
  #reconnectDelayMs = 0;
  #hasConnected = false;

  constructor(options: InformerOptions<T>, transform: (object: T) => T, on: LoopHandlers<T>) {
    this.#http = KubeHttp.for(options.kubeConfig);
    this.#path = options.path;
    this.#list = options.list;
    this.#transform = transform;
    this.#fieldSelector = options.fieldSelector ?? ((): undefined => undefined);
    this.#on = on;
  }

  /** Lists (unless resuming) and starts the watch; a failed list goes to `onError`. */
  async start(): Promise<void> {
    this.#stopped = false;
    this.#reconnectDelayMs = 0;
    this.#hasConnected = false;
    await this.#next(null);
  }

  stop(): Promise<void> {
    this.#stopped = true;
    this.#abort();
    return Promise.resolve();
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#objects.get(namespace ?? '')?.get(name);
  }

  list(namespace?: string): T[] {
    if (namespace) return [...(this.#objects.get(namespace)?.values() ?? [])];
    const all: T[] = [];
    for (const objects of this.#objects.values()) all.push(...objects.values());
    return all;
  }

  #abort(): void {
    this.#request?.abort();
    this.#request = undefined;
  }

  /** What to do when the watch ended (`error` null: it ended normally, or this is the start). */
  async #next(error: unknown): Promise<void> {
    this.#abort();
    if (statusCodeOf(error) === 410) {
      this.#expire();
    } else if ((error as { name?: unknown } | null)?.name === 'TimeoutError') {
      // A silent watch, restarted: the silence itself was the wait.
      this.#reconnectDelayMs = 0;
    } else if (error) {
      this.#on.error(error);
      return;
    }
    if (this.#stopped) return;
    this.#on.connect();
    if (!this.#resourceVersion && !(await this.#relist())) return;
    if (this.#reconnectDelayMs > 0 && this.#hasConnected) {
      await new Promise((resolve) => setTimeout(resolve, this.#reconnectDelayMs));
    }
    if (this.#hasConnected) {
      this.#reconnectDelayMs = Math.min(
        this.#reconnectDelayMs > 0 ? this.#reconnectDelayMs * 2 : 1_000,
        30_000,
      );
    }
    await this.#watch();
  }

  /** Watches from the last resourceVersion; not when stopped meanwhile (it would hold the process open). */
  async #watch(): Promise<void> {
    if (this.#isStopped()) return;
    this.#hasConnected = true;
    const request = await this.#http.watch(
      this.#path,
      { resourceVersion: this.#resourceVersion, fieldSelector: this.#fieldSelector() },
      (type, object) => {
        this.#event(type, object);
      },
      (watchError) => {
        void this.#next(watchError);
      },
    );
    if (this.#isStopped()) request.abort();
    else this.#request = request;
  }

  /** The resourceVersion is too old to resume from: the next start lists first. */
  #expire(): void {
    if (this.#resourceVersion !== '') this.#on.expired(this.#resourceVersion);
    this.#resourceVersion = '';
  }

  /** Read through a call: a stop can happen during any await. */
  #isStopped(): boolean {
    return this.#stopped;
  }

  /** Lists and replaces the cache; false (and `onError`) when the list failed. */
  async #relist(): Promise<boolean> {
    let listed: ListResult<T>;
    try {
      listed = await this.#list();
    } catch (error) {
      this.#on.error(error);
      return false;
    }
    this.#replace(listed.items.map(this.#transform));
    this.#resourceVersion = listed.metadata?.resourceVersion ?? '';
    return true;
  }

  #event(type: string, raw: unknown): void {
    const object = raw as T & { code?: unknown };
    switch (type) {
      case 'ERROR':
        // The watch ends next; a 410 means the resourceVersion is too old to resume from.
        if (object.code === 410) this.#expire();
        return;
      case 'ADDED':
      case 'MODIFIED':
        this.#store(this.#transform(object));
        break;
      case 'DELETED':
        this.#delete(this.#transform(object));
        break;
      default: // BOOKMARK: only its resourceVersion matters
    }
    this.#reconnectDelayMs = 0;
    this.#resourceVersion = object.metadata?.resourceVersion ?? '';
  }

  /** A fresh list: what is gone is deleted, what is new or changed is stored. */
  #replace(items: readonly T[]): void {
    const listed = new Set(items.map((item) => keyOf(item)));
    for (const [namespace, objects] of this.#objects) {
      for (const [name, object] of objects) {
        if (listed.has(`${namespace}/${name}`)) continue;
        objects.delete(name);
        this.#on.change(object);
      }
      if (objects.size === 0) this.#objects.delete(namespace);
    }
    for (const item of items) this.#store(item);
  }

  #store(object: T): void {
    const namespace = object.metadata?.namespace ?? '';
    const name = object.metadata?.name ?? '';
    let objects = this.#objects.get(namespace);
    if (!objects) {
      objects = new Map();
      this.#objects.set(namespace, objects);
    }
    const found = objects.get(name);
    const version = found?.metadata?.resourceVersion;
    if (found && version !== undefined && version === object.metadata?.resourceVersion) return;
    objects.set(name, object);
    this.#on.change(object);
  }

  #delete(object: T): void {
    const namespace = object.metadata?.namespace ?? '';
    const objects = this.#objects.get(namespace);
    if (!objects?.delete(object.metadata?.name ?? '')) return;
    if (objects.size === 0) this.#objects.delete(namespace);
    this.#on.change(object);
  }
}

function keyOf(object: InformerObject): string {
  return `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}

/**
 * A cache of one resource that survives what really happens to watches. A list-watch loop relists on
 * 410 Gone and reconnects after its 30 s inactivity timeout, but stops for good on any other error;
 * here every error goes through one restart path with jittered backoff, a watchdog restarts a
 * watch that went silent, and a periodic resync replays the cache.
 */
export class ResilientInformer<T extends InformerObject> implements ObjectCache<T> {
  readonly #options: InformerOptions<T>;
  readonly #informer: ListWatchLoop<T>;
  #synced = false;
  #stopped = false;
  #failures = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  /** Set while start() waits: the loop reports list failures through its error callback. */
  #startFailed: ((reason: string) => void) | undefined;
  #lastActivity = Date.now();
  #lastError: string | undefined;
  readonly #timers: NodeJS.Timeout[] = [];

  constructor(options: InformerOptions<T>) {
    this.#options = options;
    this.#informer = new ListWatchLoop<T>(options, options.transform ?? trimmed, {
      change: (object) => {
        this.#lastActivity = Date.now();
        this.#failures = 0;
        this.#lastError = undefined;
        options.onChange(object);
      },
      connect: () => {
        this.#lastActivity = Date.now();
      },
      expired: (resourceVersion) => {
        // Expected after a long disconnect or an API server restart; worth a line, not a warning.
        options.logger?.info('Watch could not resume (410 Gone); listing again', {
          informer: options.name,
          resourceVersion,
        });
      },
      error: (error) => {
        if (this.#startFailed) this.#startFailed(apiMessageOf(error));
        else this.#scheduleRestart(apiMessageOf(error));
      },
    });
  }

  /** Lists, starts watching, and resolves once the cache holds the whole collection. */
  async start(): Promise<void> {
    this.#stopped = false;
    await this.#startUntilSynced();
    this.#synced = true;
    const resyncMs = this.#options.resyncMs ?? 10 * 60_000;
    const stallMs = this.#options.stallMs ?? 3 * 60_000;
    this.#timers.push(
      setInterval(() => {
        this.#resync();
      }, resyncMs).unref(),
      setInterval(
        () => {
          if (Date.now() - this.#lastActivity > stallMs)
            this.#scheduleRestart(`no watch activity for ${stallMs / 1000}s`);
        },
        Math.max(1_000, stallMs / 2),
      ).unref(),
    );
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#restartTimer);
    for (const timer of this.#timers.splice(0)) clearInterval(timer);
    await this.#informer.stop();
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  /** Why the last list or watch failed, while it has not recovered; for status messages. */
  lastError(): string | undefined {
    return this.#lastError;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#informer.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.#informer.list(namespace);
  }

  async #startUntilSynced(): Promise<void> {
    while (!this.#stopped) {
      const failed = new Promise<string>((resolve) => (this.#startFailed = resolve));
      const outcome = await Promise.race([
        this.#informer.start().then(
          () => undefined,
          (error: unknown) => apiMessageOf(error),
        ),
        failed,
      ]);
      this.#startFailed = undefined;
      this.#lastError = outcome;
      if (outcome === undefined) return;
      await this.#informer.stop();
      const delay = backoffDelay(this.#failures++, RESTART_BACKOFF);
      this.#options.logger?.warn('Informer could not start; retrying', {
        informer: this.#options.name,
        error: outcome,
        retryInMs: Math.round(delay),
      });
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  /** The single restart path: one restart at a time, later ones wait with growing delays. */
  #scheduleRestart(reason: string): void {
    this.#lastError = reason;
    if (this.#stopped || this.#restartTimer) return;
    const delay = backoffDelay(this.#failures++, RESTART_BACKOFF);
    this.#options.logger?.warn('Restarting informer', {
      informer: this.#options.name,
      reason,
      retryInMs: Math.round(delay),
    });
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      void this.#restart();
    }, delay);
    this.#restartTimer.unref();
  }

  async #restart(): Promise<void> {
    if (this.#stopped) return;
    this.#lastActivity = Date.now();
    await this.#informer.stop();
    await this.#informer.start().catch((error: unknown) => {
      this.#scheduleRestart(apiMessageOf(error));
    });
  }

  #resync(): void {
    for (const object of this.list()) this.#options.onChange(object);
  }
}

/**
 * A list function that pages through a large collection;
 * every page belongs to the same snapshot, whose resourceVersion the watch then starts from.
 */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the item type the raw JSON pages hold
export function pagedList<T extends InformerObject>(
  page: (continueToken: string | undefined) => Promise<unknown>,
): () => Promise<{ items: T[]; metadata: { resourceVersion: string } }> {
  return async () => {
    const items: T[] = [];
    let resourceVersion: string | undefined;
    for await (const list of pages<T>(page)) {
      resourceVersion ??= list.metadata?.resourceVersion ?? '';
      items.push(...list.items);
    }
    return { items, metadata: { resourceVersion: resourceVersion ?? '' } };
  };
}

/** The pages of a collection one at a time, for a reader that need not hold all of it at once. */
export async function* pages<T>(
  page: (continueToken: string | undefined) => Promise<unknown>,
): AsyncGenerator<RawList<T>> {
  let token: string | undefined;
  do {
    const list = (await page(token)) as RawList<T>;
    yield list;
    token = continueOf(list);
  } while (token);
}

export interface RawList<T> {
  readonly items: readonly T[];
  readonly metadata?: {
    readonly resourceVersion?: string;
    readonly continue?: string;
    readonly _continue?: string;
  };
}

// Raw JSON says `continue`; client-node's typed lists rename it `_continue`.
function continueOf(list: RawList<unknown>): string | undefined {
  return list.metadata?.continue ?? list.metadata?._continue;
}
