import {
  ADD,
  CONNECT,
  DELETE,
  ERROR,
  ListWatch,
  UPDATE,
  Watch,
  type Informer,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type ObjectCache,
} from '@kubernetes/client-node';
import { backoffDelay } from '../runtime/backoff.ts';
import { apiMessageOf } from './api-errors.ts';
import { KubeHttp } from './kube-http.ts';

export interface InformerLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

/**
 * What an informer holds. Greenlight's own kinds arrive as raw JSON (timestamps are strings), which
 * client-node's KubernetesObject (typed with Date) does not describe, so the constraint is this.
 */
export interface InformerObject {
  readonly metadata?: { readonly name?: string; readonly namespace?: string } | undefined;
}

export interface InformerOptions<T extends InformerObject> {
  /** For logs: `approvalrequests`, `apps/v1 Deployment staging`. */
  readonly name: string;
  readonly kubeConfig: KubeConfig;
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

const RESTART_BACKOFF = { baseMs: 500, maxMs: 30_000, jitter: 0.2 } as const;

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

/**
 * The watch client-node's ListWatch drives, over the lean client (KubeHttp: one timer per watch, no
 * fetch streams; docs/benchmarks.md, F10), handing the informer transformed objects and filtering with
 * a field selector.
 */
class TransformingWatch extends Watch {
  readonly #http: KubeHttp;
  readonly #transform: (object: unknown) => unknown;
  readonly #fieldSelector: () => string | undefined;

  constructor(
    kubeConfig: KubeConfig,
    transform: (object: unknown) => unknown,
    fieldSelector: () => string | undefined,
  ) {
    super(kubeConfig);
    this.#http = KubeHttp.for(kubeConfig);
    this.#transform = transform;
    this.#fieldSelector = fieldSelector;
  }

  override watch(...[path, query, callback, done]: Parameters<Watch['watch']>): ReturnType<Watch['watch']> {
    const fieldSelector = this.#fieldSelector();
    return this.#http.watch(
      path,
      fieldSelector === undefined ? query : { ...query, fieldSelector },
      (phase, object: unknown, raw: unknown) => {
        callback(phase, this.#transform(object), raw);
      },
      done,
    );
  }
}

/**
 * A cache of one resource that survives what really happens to watches. client-node relists on
 * 410 Gone and reconnects after its 30 s inactivity timeout, but stops for good on any other error;
 * here every error goes through one restart path with jittered backoff, a watchdog restarts a
 * watch that went silent, and a periodic resync replays the cache.
 */
export class ResilientInformer<T extends InformerObject> implements ObjectCache<T> {
  readonly #options: InformerOptions<T>;
  readonly #informer: Informer<KubernetesObject> & ObjectCache<KubernetesObject>;
  #synced = false;
  #stopped = false;
  #failures = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  /** Set while start() waits: client-node reports list failures through the error callback. */
  #startFailed: ((reason: string) => void) | undefined;
  #lastActivity = Date.now();
  #lastError: string | undefined;
  readonly #timers: NodeJS.Timeout[] = [];

  constructor(options: InformerOptions<T>) {
    this.#options = options;
    const transform = options.transform ?? trimmed;
    const list = async (): Promise<KubernetesListObject<KubernetesObject>> => {
      const result = await options.list();
      const items = result.items.map(transform);
      // The same JSON, seen through client-node's (Date-typed) declaration.
      return { ...result, items } as unknown as KubernetesListObject<KubernetesObject>;
    };
    this.#informer = new ListWatch<KubernetesObject>(
      options.path,
      new TransformingWatch(
        options.kubeConfig,
        (object) => transform(object as T),
        options.fieldSelector ?? ((): undefined => undefined),
      ),
      list,
      false,
    );
    const changed = (object: KubernetesObject): void => {
      this.#lastActivity = Date.now();
      this.#failures = 0;
      this.#lastError = undefined;
      options.onChange(object as T);
    };
    this.#informer.on(ADD, changed);
    this.#informer.on(UPDATE, changed);
    this.#informer.on(DELETE, changed);
    this.#informer.on(CONNECT, () => {
      this.#lastActivity = Date.now();
    });
    this.#informer.on(ERROR, (error: unknown) => {
      if (this.#startFailed) this.#startFailed(apiMessageOf(error));
      else this.#scheduleRestart(apiMessageOf(error));
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
    return this.#informer.get(name, namespace) as T | undefined;
  }

  list(namespace?: string): readonly T[] {
    return this.#informer.list(namespace) as readonly T[];
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
 * A list function that pages through a large collection (client-node's informer lists in one call);
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
