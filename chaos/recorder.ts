import { Watch, type KubeConfig } from '@kubernetes/client-node';
import {
  APPROVAL_REQUEST_PLURAL,
  isFinal,
  type ApprovalRequest,
} from '../src/api/v1alpha1/approval-request.ts';
import { GreenlightApi } from '../src/k8s/greenlight-api.ts';
import type { LeaseVersion } from './invariants.ts';

/** What one request went through, as an outside watcher saw it. */
export interface Seen {
  latest: ApprovalRequest;
  /** Each phase in the order seen (repeats folded). */
  readonly phases: string[];
  /** Date.now() when first seen in a final phase. */
  decidedAt?: number;
}

interface MinimalObject {
  readonly metadata?: { readonly name?: string; readonly resourceVersion?: string };
}

/**
 * A watch that never gives up: it reconnects every half second while the API server is down,
 * resumes from the last version seen, and starts over (a fresh watch lists everything again) when
 * that version is too old (410 Gone).
 */
class Follower<T extends MinimalObject> {
  restarts = 0;
  readonly #watch: Watch;
  readonly #path: string;
  readonly #onEvent: (type: string, object: T) => void;
  #resourceVersion: string | undefined;
  #abort: AbortController | undefined;
  #stopped = false;

  constructor(config: KubeConfig, path: string, onEvent: (type: string, object: T) => void) {
    this.#watch = new Watch(config);
    this.#path = path;
    this.#onEvent = onEvent;
  }

  start(): void {
    void this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    this.#abort?.abort();
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    const again = (error?: unknown): void => {
      // A resume the API server refuses outright (HTTP 410, not an ERROR event in the stream) would
      // otherwise be retried from the same version for ever.
      if ((error as { statusCode?: unknown } | null | undefined)?.statusCode === 410)
        this.#resourceVersion = undefined;
      if (this.#stopped) return;
      this.restarts += 1;
      setTimeout(() => void this.#connect(), 500);
    };
    try {
      this.#abort = await this.#watch.watch(
        this.#path,
        {
          allowWatchBookmarks: true,
          ...(this.#resourceVersion === undefined ? {} : { resourceVersion: this.#resourceVersion }),
        },
        (type: string, object: T & { code?: number }) => {
          if (type === 'ERROR') {
            if (object.code === 410) this.#resourceVersion = undefined;
            return;
          }
          if (object.metadata?.resourceVersion) this.#resourceVersion = object.metadata.resourceVersion;
          if (type !== 'BOOKMARK') this.#onEvent(type, object);
        },
        again,
      );
    } catch (error) {
      again(error);
    }
  }
}

/** Everything the invariant checker needs that only a watch sees: every phase, every lease holder. */
export class Recorder {
  readonly requests = new Map<string, Seen>();
  readonly leases: LeaseVersion[] = [];
  /** How many requests have been seen in a final phase. */
  decided = 0;
  /** Requests seen but not yet in a final phase. */
  readonly undecided = new Set<string>();
  readonly #followers: Follower<MinimalObject>[] = [];
  readonly #waiters = new Set<() => void>();

  constructor(config: KubeConfig, namespace: string, lease: string) {
    this.#followers.push(
      new Follower<ApprovalRequest>(
        config,
        GreenlightApi.path(APPROVAL_REQUEST_PLURAL, namespace),
        (type, object) => {
          if (type === 'ADDED' || type === 'MODIFIED') this.#seeRequest(object);
        },
      ) as Follower<MinimalObject>,
      new Follower<{
        metadata?: { name?: string; resourceVersion?: string };
        spec?: { holderIdentity?: string };
      }>(config, `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`, (type, object) => {
        if (object.metadata?.name !== lease || type === 'DELETED') return;
        this.leases.push({
          resourceVersion: Number(object.metadata.resourceVersion),
          holder: object.spec?.holderIdentity ?? '',
        });
      }),
    );
    for (const follower of this.#followers) follower.start();
  }

  get restarts(): number {
    return this.#followers.reduce((sum, follower) => sum + follower.restarts, 0);
  }

  /** Resolves when `done` holds (checked on each new decision), or with false after `timeoutMs`. */
  until(done: () => boolean, timeoutMs: number): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = (): void => {
        if (!done()) return;
        this.#waiters.delete(check);
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        resolve(false);
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }

  stop(): void {
    for (const follower of this.#followers) follower.stop();
  }

  #seeRequest(request: ApprovalRequest): void {
    const name = request.metadata.name ?? '';
    const phase = request.status?.phase ?? 'Pending';
    const seen = this.requests.get(name) ?? { latest: request, phases: [] };
    this.requests.set(name, seen);
    seen.latest = request;
    if (seen.phases.at(-1) !== phase) seen.phases.push(phase);
    if (seen.decidedAt !== undefined) return;
    if (!isFinal(phase)) {
      this.undecided.add(name);
      return;
    }
    this.undecided.delete(name);
    seen.decidedAt = Date.now();
    this.decided += 1;
    for (const check of this.#waiters) check();
  }
}
