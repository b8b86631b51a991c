/**
 * client-node 2.0.1 builds a new undici Agent (a connection pool) for every API call it makes
 * (KubeConfig.applySecurityAuthentication → createDispatcher), so every call opens its own TCP and
 * TLS connection to the API server. This reuses one Agent per cluster, user and credentials, so calls
 * share keep-alive connections as client-go's do.
 *
 * The benchmark's own clients use it (a ceiling has to be the API server's limit, not a client's);
 * fix F1 applies it to an unchanged controller (fixes.ts).
 */
import { createHash } from 'node:crypto';
import { KubeConfig, type RequestContext } from '@kubernetes/client-node';

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

const INSTALLED = Symbol.for('greenlight.bench.pooledConnections');

function credentialsKey(config: KubeConfig): string {
  const cluster = config.getCurrentCluster();
  const user = config.getCurrentUser();
  // Rotated client certificates (or another CA) must get a new pool; tokens travel in headers.
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

/** Makes every KubeConfig in this process reuse connections. Idempotent. */
export function installConnectionPooling(): void {
  const prototype = KubeConfig.prototype as KubeConfig & { [INSTALLED]?: true };
  if (prototype[INSTALLED]) return;
  prototype[INSTALLED] = true;
  const pools = new Map<string, Dispatcher>();
  const original = Object.getOwnPropertyDescriptor(KubeConfig.prototype, 'applySecurityAuthentication')
    ?.value as KubeConfig['applySecurityAuthentication'];
  Object.defineProperty(KubeConfig.prototype, 'applySecurityAuthentication', {
    configurable: true,
    writable: true,
    value: async function applyPooled(this: KubeConfig, context: RequestContext): Promise<void> {
      await original.call(this, context);
      const created = context.getDispatcher();
      if (created === undefined) return;
      const key = credentialsKey(this);
      const pooled = pools.get(key);
      if (pooled === undefined) {
        pools.set(key, created);
        return;
      }
      context.setDispatcher(pooled);
      // The fresh Agent never connected; closing it frees nothing but its bookkeeping.
      void created.close();
    },
  });
}
