import { ResilientInformer, pagedList, type InformerLogger, type InformerObject } from '../k8s/informer.ts';
import { KubeHttp, withQuery, type ClusterAccess } from '../k8s/kube-http.ts';
import { collectionPath, type ResourceDiscovery } from '../k8s/resources.ts';
import { contextUnavailable } from '../policy/evaluate-policy.ts';

export interface ContextTarget {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

export type ContextChange = Omit<ContextTarget, 'name'> & { readonly name: string };

const SYNC_WAIT_MS = 10_000;

interface Watched {
  readonly informer?: ResilientInformer<InformerObject>;
  readonly namespaced: boolean;
  readonly synced: Promise<void>;
  /** Set when the kind cannot be watched at all (unknown to the API server). */
  readonly problem?: string;
}

/**
 * The live objects policies read as `context`. The first lookup of a kind in a namespace starts an
 * informer for it, so later lookups read the cache and every change re-evaluates the requests that
 * may depend on it (`onChange`).
 */
export class ContextObjects {
  readonly #kubeConfig: ClusterAccess;
  readonly #discovery: ResourceDiscovery;
  readonly #logger: InformerLogger;
  readonly #onChange: (change: ContextChange) => void;
  readonly #watched = new Map<string, Promise<Watched>>();

  constructor(options: {
    kubeConfig: ClusterAccess;
    discovery: ResourceDiscovery;
    logger: InformerLogger;
    onChange: (change: ContextChange) => void;
  }) {
    this.#kubeConfig = options.kubeConfig;
    this.#discovery = options.discovery;
    this.#logger = options.logger;
    this.#onChange = options.onChange;
  }

  static key(target: ContextTarget): string {
    return `${target.apiVersion}|${target.kind}|${target.namespace}|${target.name}`;
  }

  /** The objects named, by key: the object, null when absent, or contextUnavailable(reason). */
  async fetch(targets: readonly ContextTarget[]): Promise<Map<string, unknown>> {
    const found = new Map<string, unknown>();
    for (const target of targets) {
      const watched = await this.#watch(target);
      found.set(ContextObjects.key(target), await this.#read(watched, target));
    }
    return found;
  }

  async stop(): Promise<void> {
    const all = await Promise.all([...this.#watched.values()]);
    await Promise.all(all.map(async (watched) => watched.informer?.stop()));
  }

  async #read(watched: Watched, target: ContextTarget): Promise<unknown> {
    if (watched.problem) return contextUnavailable(watched.problem);
    const informer = watched.informer;
    if (!informer) return null;
    if (!informer.hasSynced()) {
      const timeout = new Promise<'timeout'>((resolve) => {
        setTimeout(() => {
          resolve('timeout');
        }, SYNC_WAIT_MS).unref();
      });
      if ((await Promise.race([watched.synced, timeout])) === 'timeout') {
        return contextUnavailable(informer.lastError() ?? `cannot list ${target.kind} objects yet`);
      }
    }
    return informer.get(target.name, watched.namespaced ? target.namespace : undefined) ?? null;
  }

  #watch(target: ContextTarget): Promise<Watched> {
    const resourceKey = `${target.apiVersion}|${target.kind}|${target.namespace}`;
    let watched = this.#watched.get(resourceKey);
    if (!watched) {
      watched = this.#start(target);
      this.#watched.set(resourceKey, watched);
    }
    return watched;
  }

  async #start(target: ContextTarget): Promise<Watched> {
    let resource;
    try {
      resource = await this.#discovery.find(target.apiVersion, target.kind);
    } catch (error) {
      this.#watched.delete(`${target.apiVersion}|${target.kind}|${target.namespace}`);
      return {
        namespaced: true,
        synced: Promise.resolve(),
        problem: `API discovery failed: ${String(error)}`,
      };
    }
    if (!resource) {
      return {
        namespaced: true,
        synced: Promise.resolve(),
        problem: `the API server serves no kind ${target.kind} in ${target.apiVersion}`,
      };
    }
    const http = KubeHttp.for(this.#kubeConfig);
    const namespace = resource.namespaced ? target.namespace : undefined;
    const path = collectionPath(resource, namespace);
    const informer = new ResilientInformer<InformerObject>({
      name: `${target.apiVersion} ${target.kind} ${namespace ?? '(cluster)'}`,
      kubeConfig: this.#kubeConfig,
      path,
      list: pagedList((token) => http.json('GET', withQuery(path, { limit: 500, continue: token }))),
      logger: this.#logger,
      onChange: (object) => {
        this.#onChange({
          apiVersion: target.apiVersion,
          kind: target.kind,
          namespace: object.metadata?.namespace ?? target.namespace,
          name: object.metadata?.name ?? '',
        });
      },
    });
    const synced = informer.start();
    return { informer, namespaced: resource.namespaced, synced };
  }
}
