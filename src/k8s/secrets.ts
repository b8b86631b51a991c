import { isForbidden, isNotFound } from './api-errors.ts';
import { KubeHttp, type ClusterAccess } from './kube-http.ts';

/** One key of a Secret, or why it cannot be had (never the value itself). */
export type SecretValue = { readonly value: string } | { readonly problem: string };

const TTL_MS = 30_000;

/**
 * Reads single Secret keys by name (the controller may `get` Secrets, never list or watch them), each
 * Secret cached for half a minute so that a burst of deliveries reads it once. A rotated secret is used
 * within that time; a failed read is not remembered.
 */
export class SecretReader {
  readonly #http: KubeHttp;
  readonly #cache = new Map<
    string,
    { readonly data: Promise<Record<string, string>>; readonly until: number }
  >();

  constructor(kubeConfig: ClusterAccess) {
    this.#http = KubeHttp.for(kubeConfig);
  }

  async read(namespace: string, name: string, key: string): Promise<SecretValue> {
    const where = `Secret ${namespace}/${name}`;
    let data: Record<string, string>;
    try {
      data = await this.#data(namespace, name);
    } catch (error) {
      if (isNotFound(error)) return { problem: `${where} does not exist` };
      if (isForbidden(error))
        return { problem: `the controller may not get ${where} (RBAC; see docs/webhooks.md)` };
      throw error;
    }
    const encoded = data[key];
    if (encoded === undefined) return { problem: `${where} has no key ${key}` };
    return { value: Buffer.from(encoded, 'base64').toString('utf8') };
  }

  #data(namespace: string, name: string): Promise<Record<string, string>> {
    const id = `${namespace}/${name}`;
    const cached = this.#cache.get(id);
    if (cached && cached.until > Date.now()) return cached.data;
    const data = this.#http
      .json<{ data?: Record<string, string> }>(
        'GET',
        `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`,
      )
      .then((secret) => secret.data ?? {});
    this.#cache.set(id, { data, until: Date.now() + TTL_MS });
    data.catch(() => this.#cache.delete(id));
    return data;
  }
}
