/**
 * The independent observer: a watch on a namespace's ApprovalRequests (client-node Watch, as any
 * client would hold one) that notes when each request is first seen with `Decided=True`. Latencies are
 * measured from the moment a create was sent to that observation, never from the controller's logs.
 */
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { APPROVAL_REQUEST_PLURAL, type ApprovalRequest } from '../../src/api/v1alpha1/approval-request.ts';
import { GreenlightApi } from '../../src/k8s/greenlight-api.ts';

export interface Observation {
  /** performance.now() when the watch delivered the decided object. */
  readonly at: number;
  readonly phase: string;
}

interface Waiter {
  readonly done: () => boolean;
  readonly resolve: () => void;
}

export class DecisionObserver {
  readonly decided = new Map<string, Observation>();
  /** Changes seen to requests already decided that carry webhook results (status.webhooks): result writes. */
  webhookResultWrites = 0;
  readonly #watch: Watch;
  readonly #path: string;
  readonly #waiters = new Set<Waiter>();
  #resourceVersion: string | undefined;
  #abort: AbortController | undefined;
  #stopped = false;
  #restarts = 0;

  private constructor(config: KubeConfig, namespace: string, resourceVersion: string | undefined) {
    // client-node ends a watch after 30 s without data; #connect resumes it from the last version seen.
    this.#watch = new Watch(config);
    this.#path = GreenlightApi.path(APPROVAL_REQUEST_PLURAL, namespace);
    this.#resourceVersion = resourceVersion;
  }

  /**
   * Resolves once the watch is established. Without a resourceVersion it starts with the namespace's
   * current objects; with one, it sees only what changes after it.
   */
  static async start(
    config: KubeConfig,
    namespace: string,
    resourceVersion?: string,
  ): Promise<DecisionObserver> {
    const observer = new DecisionObserver(config, namespace, resourceVersion);
    await observer.#connect();
    return observer;
  }

  get restarts(): number {
    return this.#restarts;
  }

  /** Resolves once `done()` holds (checked after every decision seen), or rejects after the timeout. */
  until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        done,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#abort?.abort();
  }

  async #connect(): Promise<void> {
    this.#abort = await this.#watch.watch(
      this.#path,
      {
        allowWatchBookmarks: true,
        ...(this.#resourceVersion === undefined ? {} : { resourceVersion: this.#resourceVersion }),
      },
      (type: string, object: ApprovalRequest) => {
        this.#onEvent(type, object);
      },
      () => {
        if (this.#stopped) return;
        this.#restarts++;
        setTimeout(() => void this.#connect(), 200);
      },
    );
  }

  #onEvent(type: string, object: ApprovalRequest): void {
    const at = performance.now();
    if (object.metadata.resourceVersion) this.#resourceVersion = object.metadata.resourceVersion;
    if (type !== 'ADDED' && type !== 'MODIFIED') return;
    const name = object.metadata.name ?? '';
    if (this.decided.has(name)) {
      if (type === 'MODIFIED' && (object.status?.webhooks?.length ?? 0) > 0) this.webhookResultWrites++;
      return;
    }
    const decided = object.status?.conditions?.some((c) => c.type === 'Decided' && c.status === 'True');
    if (!decided) return;
    this.decided.set(name, { at, phase: object.status?.phase ?? '' });
    for (const waiter of this.#waiters) {
      if (waiter.done()) {
        this.#waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }
}
