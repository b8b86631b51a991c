import { KubeHttp, type ClusterAccess } from './kube-http.ts';

export interface ResourceInfo {
  readonly apiVersion: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

/** The REST path of a resource's collection: `/api/v1/namespaces/ns/configmaps`, `/apis/apps/v1/deployments`. */
export function collectionPath(resource: ResourceInfo, namespace?: string): string {
  const base = resource.apiVersion.includes('/')
    ? `/apis/${resource.apiVersion}`
    : `/api/${resource.apiVersion}`;
  return resource.namespaced && namespace
    ? `${base}/namespaces/${namespace}/${resource.plural}`
    : `${base}/${resource.plural}`;
}

/** Finds a kind's plural name through API discovery; cached per apiVersion. */
export class ResourceDiscovery {
  readonly #http: KubeHttp;
  readonly #byApiVersion = new Map<string, Promise<Map<string, ResourceInfo>>>();

  constructor(kubeConfig: ClusterAccess) {
    this.#http = KubeHttp.for(kubeConfig);
  }

  async find(apiVersion: string, kind: string): Promise<ResourceInfo | undefined> {
    let resources = this.#byApiVersion.get(apiVersion);
    if (!resources) {
      resources = this.#discover(apiVersion);
      this.#byApiVersion.set(apiVersion, resources);
      // A failed discovery (API not installed yet) must be retried later, not cached.
      resources.catch(() => this.#byApiVersion.delete(apiVersion));
    }
    return (await resources).get(kind);
  }

  async #discover(apiVersion: string): Promise<Map<string, ResourceInfo>> {
    // An APIResourceList: /api/v1 for the core group, /apis/<group>/<version> for the others.
    const list = await this.#http.json<{
      resources: readonly { name: string; kind: string; namespaced: boolean }[];
    }>('GET', apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`);
    const byKind = new Map<string, ResourceInfo>();
    for (const resource of list.resources) {
      if (resource.name.includes('/')) continue; // subresources such as deployments/status
      byKind.set(resource.kind, {
        apiVersion,
        kind: resource.kind,
        plural: resource.name,
        namespaced: resource.namespaced,
      });
    }
    return byKind;
  }
}
