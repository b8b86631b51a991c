import { createHash } from 'node:crypto';
import { KubeConfig, type RequestContext } from '@kubernetes/client-node';

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/**
 * A KubeConfig whose API calls share keep-alive connections. client-node 2.0.1 builds a new undici
 * Agent — a new TCP and TLS connection — for every call; measured on the benchmark, that cost a third
 * of the controller's CPU and most of its memory under load (docs/benchmarks.md, F1). Here one Agent
 * serves each cluster, user and set of TLS credentials, as client-go's transport cache does.
 */
export class PooledKubeConfig extends KubeConfig {
  readonly #pools = new Map<string, Dispatcher>();
  /** The last key and what it was computed from: hashing the credentials on every call cost 0.7 % of CPU. */
  #lastKey: { cluster: unknown; user: unknown; key: string } | undefined;

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const created = context.getDispatcher();
    if (created === undefined) return;
    const key = this.#credentialsKey();
    const pooled = this.#pools.get(key);
    if (pooled === undefined) {
      this.#pools.set(key, created);
      return;
    }
    if (pooled === created) return;
    context.setDispatcher(pooled);
    // The fresh Agent never connected: closing it only drops its bookkeeping.
    void created.close();
  }

  /** Closes the shared connections (at shutdown, so idle keep-alive sockets do not hold the process). */
  async close(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((pool) => pool.close()));
  }

  #credentialsKey(): string {
    const cluster = this.getCurrentCluster();
    const user = this.getCurrentUser();
    // The objects are replaced, not changed, when a kubeconfig is loaded again.
    if (this.#lastKey?.cluster !== cluster || this.#lastKey.user !== user)
      this.#lastKey = { cluster, user, key: credentialsKey(cluster, user) };
    return this.#lastKey.key;
  }
}

function credentialsKey(
  cluster: ReturnType<KubeConfig['getCurrentCluster']>,
  user: ReturnType<KubeConfig['getCurrentUser']>,
): string {
  // Another CA or client certificate needs its own pool; tokens travel in headers, not in the pool.
  const tls = [
    cluster?.caData,
    cluster?.caFile,
    user?.certData,
    user?.certFile,
    user?.keyData,
    user?.keyFile,
  ];
  const fingerprint = createHash('sha256').update(JSON.stringify(tls)).digest('hex').slice(0, 16);
  return `${cluster?.server ?? ''}|${user?.name ?? ''}|${fingerprint}`;
}
