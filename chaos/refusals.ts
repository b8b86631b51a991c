import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, CustomObjectsApi, RbacAuthorizationV1Api, KubeConfig } from '@kubernetes/client-node';
import { APPROVAL_REQUEST_PLURAL } from '../src/api/v1alpha1/approval-request.ts';
import { GROUP, VERSION } from '../src/api/v1alpha1/schema.ts';
import { renderKubeconfig } from '../src/local-cluster/kubeconfig.ts';
import type { Random } from './random.ts';
import type { ChaosCluster } from './world.ts';

const SERVICE_ACCOUNT = { namespace: 'kube-system', name: 'greenlight-chaos' } as const;
const FLOW = 'greenlight-chaos';

/**
 * A kubeconfig for a ServiceAccount bound to cluster-admin, as the chart's controller runs with its
 * own account: unlike the local admin (system:masters), API Priority and Fairness does not exempt it.
 */
export async function serviceAccountKubeconfig(cluster: ChaosCluster, dir: string): Promise<string> {
  const core = cluster.admin.makeApiClient(CoreV1Api);
  const { namespace, name } = SERVICE_ACCOUNT;
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } }).catch(ignoreExists);
  await cluster.admin
    .makeApiClient(RbacAuthorizationV1Api)
    .createClusterRoleBinding({
      body: {
        metadata: { name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
        subjects: [{ kind: 'ServiceAccount', namespace, name }],
      },
    })
    .catch(ignoreExists);
  const issued = await core.createNamespacedServiceAccountToken({
    namespace,
    name,
    body: { spec: { audiences: [], expirationSeconds: 24 * 3600 } },
  });
  const token = issued.status?.token ?? '';
  const ca = await readFile(join(cluster.local.dir, 'pki', 'apiserver.crt'), 'utf8');
  const file = join(dir, 'service-account.kubeconfig');
  await writeFile(file, renderKubeconfig(cluster.local.server, ca, [{ name, token }]), { mode: 0o600 });
  return file;
}

function ignoreExists(error: unknown): void {
  if ((error as { code?: unknown }).code !== 409) throw error;
}

/**
 * Starves the controllers' ServiceAccount under API Priority and Fairness: its own priority level
 * with the smallest share and no queue, so the API server answers 429 whenever its few seats are
 * taken. Returns the undo.
 */
export async function starve(admin: KubeConfig): Promise<() => Promise<void>> {
  const api = admin.makeApiClient(CustomObjectsApi);
  const group = 'flowcontrol.apiserver.k8s.io';
  const version = 'v1';
  await api.createClusterCustomObject({
    group,
    version,
    plural: 'prioritylevelconfigurations',
    body: {
      apiVersion: `${group}/${version}`,
      kind: 'PriorityLevelConfiguration',
      metadata: { name: FLOW },
      spec: {
        type: 'Limited',
        limited: { nominalConcurrencyShares: 1, lendablePercent: 0, limitResponse: { type: 'Reject' } },
      },
    },
  });
  await api.createClusterCustomObject({
    group,
    version,
    plural: 'flowschemas',
    body: {
      apiVersion: `${group}/${version}`,
      kind: 'FlowSchema',
      metadata: { name: FLOW },
      spec: {
        priorityLevelConfiguration: { name: FLOW },
        matchingPrecedence: 100,
        distinguisherMethod: { type: 'ByUser' },
        rules: [
          {
            subjects: [
              {
                kind: 'ServiceAccount',
                serviceAccount: { namespace: SERVICE_ACCOUNT.namespace, name: SERVICE_ACCOUNT.name },
              },
            ],
            resourceRules: [
              { verbs: ['*'], apiGroups: ['*'], resources: ['*'], namespaces: ['*'], clusterScope: true },
            ],
            nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
          },
        ],
      },
    },
  });
  return async () => {
    await api.deleteClusterCustomObject({ group, version, plural: 'flowschemas', name: FLOW });
    await api.deleteClusterCustomObject({
      group,
      version,
      plural: 'prioritylevelconfigurations',
      name: FLOW,
    });
  };
}

/**
 * Someone else writing the requests the controller is deciding (a label here, an annotation there):
 * each write moves the resourceVersion, so the controller's status write, which carries the version
 * it read, gets 409 Conflict and must read again. Returns the stop.
 */
export function meddle(
  admin: KubeConfig,
  namespace: string,
  recent: () => readonly string[],
  random: Random,
): { stop: () => Promise<void>; writes: () => number } {
  const api = admin.makeApiClient(CustomObjectsApi);
  let writes = 0;
  const state = { stopped: false };
  const worker = async (): Promise<void> => {
    while (!state.stopped) {
      const names = recent();
      const name = names[Math.floor(random() * names.length)];
      if (name !== undefined) {
        await api
          .patchNamespacedCustomObject({
            group: GROUP,
            version: VERSION,
            namespace,
            plural: APPROVAL_REQUEST_PLURAL,
            name,
            body: [
              {
                op: 'add',
                path: '/metadata/annotations',
                value: { 'chaos.greenlight.dev/touched': String(writes) },
              },
            ],
          })
          .then(() => {
            writes += 1;
          })
          .catch(() => undefined);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  const workers = Array.from({ length: 4 }, worker);
  return {
    stop: async () => {
      state.stopped = true;
      await Promise.all(workers);
    },
    writes: () => writes,
  };
}

/**
 * A noisy neighbour in the controllers' own flow (the same ServiceAccount): `parallel` loops listing
 * every request, so the starved priority level's few seats are always taken. Returns the stop.
 */
export function flood(kubeconfig: string, namespace: string, parallel: number): () => Promise<void> {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfig);
  const api = config.makeApiClient(CustomObjectsApi);
  const state = { stopped: false };
  const worker = async (): Promise<void> => {
    while (!state.stopped) {
      await api
        .listNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace,
          plural: APPROVAL_REQUEST_PLURAL,
        })
        .catch(() => undefined);
    }
  };
  const workers = Array.from({ length: parallel }, worker);
  return async () => {
    state.stopped = true;
    await Promise.all(workers);
  };
}

/** The API server's own count of answers with `code` (for one resource), from its /metrics. */
export async function apiserverAnswers(
  cluster: ChaosCluster,
  code: number,
  resource?: string,
): Promise<number> {
  const { stdout } = await promisify(execFile)(
    cluster.local.kubectl,
    ['--kubeconfig', cluster.local.kubeconfigs.admin, 'get', '--raw', '/metrics'],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  let total = 0;
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('apiserver_request_total{') || !line.includes(`code="${code}"`)) continue;
    if (resource !== undefined && !line.includes(`resource="${resource}"`)) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
