/**
 * The control plane the benchmarks run against: Greenlight's own local etcd + kube-apiserver, its CRDs
 * and admission policies, RBAC for the CI pipeline that creates the requests, and one namespace (with
 * the typical policy) per measurement.
 */
import { PooledKubeConfig } from '../../src/k8s/pooled-kubeconfig.ts';
import { readdirSync, readFileSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import {
  AuthorizationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import { APPROVAL_POLICY_PLURAL } from '../../src/api/v1alpha1/approval-policy.ts';
import { GROUP, VERSION } from '../../src/api/v1alpha1/schema.ts';
import { startLocalCluster, type LocalCluster } from '../../src/local-cluster/control-plane.ts';
import { installAdmissionPolicies, installCrds } from '../../src/local-cluster/kubectl.ts';
import { paymentsPolicy, WEBHOOK_SECRET_REF } from './workload.ts';

export interface BenchCluster {
  readonly cluster: LocalCluster;
  readonly admin: KubeConfig;
  readonly ci: KubeConfig;
  /** spec.requester of every request: the CI ServiceAccount that creates them. */
  readonly requester: string;
  readonly pids: { readonly apiserver: number | undefined; readonly etcd: number | undefined };
}

/** The benchmark's own clients reuse connections: a ceiling must be the API server's, not a client's. */
export function kubeConfigFrom(file: string): KubeConfig {
  const config = new PooledKubeConfig();
  config.loadFromFile(file);
  return config;
}

export async function startBenchCluster(progress: (line: string) => void): Promise<BenchCluster> {
  const cluster = await startLocalCluster({ onProgress: progress });
  try {
    await installCrds(cluster.kubectl, cluster.kubeconfigs.admin);
    await installAdmissionPolicies(cluster.kubectl, cluster.kubeconfigs.admin);
    const admin = kubeConfigFrom(cluster.kubeconfigs.admin);
    const ci = kubeConfigFrom(cluster.kubeconfigs.ci);
    await grantRequester(admin, cluster.usernames.ci, 'greenlight-bench-requester');
    const apiserver = findPid(`--cert-dir=${cluster.dir}/pki`);
    const etcdUrl = apiserver === undefined ? undefined : argumentOf(apiserver, '--etcd-servers=');
    const etcd = etcdUrl === undefined ? undefined : findPid(`--listen-client-urls=${etcdUrl}`);
    return { cluster, admin, ci, requester: cluster.usernames.ci, pids: { apiserver, etcd } };
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

/**
 * The CI pipeline's role (the chart's requester role), cluster-wide so every namespace a benchmark or
 * the chaos suite creates has it; resolves once the API server authorizes it.
 */
export async function grantRequester(admin: KubeConfig, user: string, name: string): Promise<void> {
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  await rbac.createClusterRole({
    body: {
      metadata: { name },
      rules: [
        { apiGroups: [GROUP], resources: ['approvalrequests'], verbs: ['create', 'get', 'list', 'watch'] },
      ],
    },
  });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: user }],
    },
  });
  const authorization = admin.makeApiClient(AuthorizationV1Api);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const review = await authorization.createSubjectAccessReview({
      body: {
        spec: {
          user,
          resourceAttributes: { group: GROUP, resource: 'approvalrequests', verb: 'create', namespace: 'x' },
        },
      },
    });
    if (review.status?.allowed) return;
    if (Date.now() > deadline) throw new Error('the RBAC grant for the CI pipeline never took effect');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A fresh namespace holding the typical policy. */
export async function createWorkspace(
  admin: KubeConfig,
  namespace: string,
  options: { notify?: boolean; webhook?: { readonly url: string; readonly secret: string } | undefined } = {},
): Promise<void> {
  await admin.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
  if (options.webhook) {
    await admin.makeApiClient(CoreV1Api).createNamespacedSecret({
      namespace,
      body: {
        metadata: { name: WEBHOOK_SECRET_REF.name },
        stringData: { [WEBHOOK_SECRET_REF.key]: options.webhook.secret },
      },
    });
  }
  await admin.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: APPROVAL_POLICY_PLURAL,
    body: paymentsPolicy(namespace, { notify: options.notify, webhookUrl: options.webhook?.url }),
  });
}

// ---- processes, found through /proc (read only) ----

function commandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/**
 * The process whose command line has exactly this argument (the benchmark's own processes only), not
 * counting the bash supervisor that runs it (whose command line repeats the arguments).
 */
export function findPid(argument: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const line = commandLine(pid);
    if (line[0] !== 'bash' && line.includes(argument)) return pid;
  }
  return undefined;
}

function argumentOf(pid: number, prefix: string): string | undefined {
  return commandLine(pid)
    .find((argument) => argument.startsWith(prefix))
    ?.slice(prefix.length);
}

const CLOCK_TICKS_PER_SECOND = 100;

/** User + system CPU time of a process so far, in seconds; undefined once it is gone. */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Resident set size now and its peak (VmRSS, VmHWM), in bytes. */
export function residentMemory(pid: number): { rss: number; peak: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string): number =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
    return { rss: kib('VmRSS') * 1024, peak: kib('VmHWM') * 1024 };
  } catch {
    return undefined;
  }
}
