import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { LocalClusterError } from '../errors.ts';
import { probe } from './https-probe.ts';
import {
  ADMIN,
  CI_SERVICE_ACCOUNT,
  CI_USERNAME,
  HUMANS,
  IDENTITIES,
  tokenFileLine,
  type Identity,
} from './identities.ts';
import { renderKubeconfig, type KubeconfigUser } from './kubeconfig.ts';
import { freeLoopbackPort } from './ports.ts';
import { startProcess, waitUntilReady, type ManagedProcess } from './process.ts';
import { resolveTools } from './tools.ts';

export interface LocalClusterOptions {
  /** Where state, logs and kubeconfigs go; a fresh temporary folder by default (removed on stop). */
  readonly dir?: string;
  /** Progress lines for people watching ("building kube-apiserver…"). */
  readonly onProgress?: (message: string) => void;
  readonly startTimeoutMs?: number;
  /**
   * Keep etcd's data when etcd dies, so that `restart` brings it back with everything it stored
   * (fault injection). The data is then removed by `stop` only, not if this process is killed.
   */
  readonly restartable?: boolean;
  /**
   * An audit policy (audit.k8s.io/v1 Policy, as JSON or YAML): the API server then writes what it
   * selects to `auditLog`, one JSON event a line, kept across restarts.
   */
  readonly auditPolicy?: string;
}

export type ControlPlaneComponent = 'etcd' | 'kube-apiserver';

export interface LocalCluster {
  /** https://127.0.0.1:PORT */
  readonly server: string;
  readonly dir: string;
  /** One kubeconfig file per identity (each with a single context). */
  readonly kubeconfigs: Readonly<Record<Identity, string>>;
  /** One kubeconfig with a context per identity; `admin` is current. */
  readonly kubeconfig: string;
  /** The Kubernetes username of each identity, as the API server sees it. */
  readonly usernames: Readonly<Record<Identity, string>>;
  readonly kubectl: string;
  /** The audit log (with `auditPolicy`): one file, never rotated. */
  readonly auditLog?: string;
  /**
   * SIGKILLs a component (as an OOM kill or a node failure would), waits `downMs`, starts it again
   * with the same flags, port and data, and resolves once it is ready. Needs `restartable` for etcd.
   */
  restart(component: ControlPlaneComponent, options?: { readonly downMs?: number }): Promise<void>;
  /**
   * Compacts etcd's history up to its current revision (as the API server does every five minutes):
   * a watch resuming from before it is refused with 410 Gone. Resolves with that revision.
   */
  compactEtcd(): Promise<number>;
  /** The running process of a component (for SIGSTOP and the like). */
  process(component: ControlPlaneComponent): ManagedProcess;
  stop(): Promise<void>;
}

/**
 * Starts a real control plane on loopback: etcd and kube-apiserver built from their Go modules, with
 * RBAC authorization, ValidatingAdmissionPolicy (GA, on by default), ServiceAccount token signing, and
 * kubeconfigs for an admin, a CI ServiceAccount and three people. There is no controller-manager:
 * namespaces are never finalized and nothing garbage-collects, so callers use fresh namespaces.
 */
export async function startLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  const progress = options.onProgress ?? ((): void => undefined);
  const ownsDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'greenlight-cluster-')));
  await mkdir(dir, { recursive: true });
  progress('Resolving etcd, kube-apiserver and kubectl (built once from their Go modules, then cached)');
  const tools = await resolveTools(['etcd', 'kube-apiserver', 'kubectl']);
  const timeoutMs = options.startTimeoutMs ?? 90_000;
  const running = new Map<ControlPlaneComponent, Started>();
  const cleanups: string[] = [];
  const stop = async (): Promise<void> => {
    for (const component of ['kube-apiserver', 'etcd'] as const) await running.get(component)?.process.stop();
    for (const path of cleanups) await rm(path, { recursive: true, force: true });
    if (ownsDir) await rm(dir, { recursive: true, force: true });
  };
  try {
    progress('Starting etcd');
    const etcd = await startEtcd(tools.etcd, dir, timeoutMs, options.restartable === true);
    running.set('etcd', etcd);
    if (options.restartable) cleanups.push(etcd.dataDir);
    progress('Starting kube-apiserver');
    const audit = options.auditPolicy === undefined ? undefined : await auditFiles(dir, options.auditPolicy);
    const apiserver = await startApiserver(tools['kube-apiserver'], {
      dir,
      etcdUrl: etcd.url,
      timeoutMs,
      audit,
    });
    running.set('kube-apiserver', apiserver);
    const { kubeconfigs, kubeconfig } = await writeKubeconfigs(dir, apiserver);
    progress(`Control plane ready at ${apiserver.server}`);
    const current = (component: ControlPlaneComponent): Started => {
      const found = running.get(component);
      if (!found) throw new LocalClusterError(`${component} is not running`);
      return found;
    };
    return {
      server: apiserver.server,
      dir,
      kubeconfigs,
      kubeconfig,
      usernames: usernames(),
      kubectl: tools.kubectl,
      ...(audit ? { auditLog: audit.log } : {}),
      process: (component) => current(component).process,
      compactEtcd: () => compactEtcd(etcd.url),
      async restart(component, { downMs = 0 } = {}): Promise<void> {
        if (component === 'etcd' && !options.restartable)
          throw new LocalClusterError(
            'etcd can be restarted only in a restartable cluster (its data would be gone)',
          );
        const { process, again } = current(component);
        await process.signal('SIGKILL');
        await process.exited;
        if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
        running.set(component, await again());
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function usernames(): Record<Identity, string> {
  return {
    admin: ADMIN.name,
    ci: CI_USERNAME,
    alice: HUMANS.alice.name,
    bob: HUMANS.bob.name,
    carol: HUMANS.carol.name,
  };
}

/** A running component, and how to start it again exactly as it was. */
interface Started {
  readonly process: ManagedProcess;
  readonly again: () => Promise<Started>;
}

async function startEtcd(
  binary: string,
  dir: string,
  timeoutMs: number,
  keepData: boolean,
): Promise<Started & { url: string; dataDir: string }> {
  const [clientPort, peerPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
  // tmpfs makes etcd's writes cheap; its data is throw-away anyway.
  const dataRoot = existsSync('/dev/shm') ? '/dev/shm' : dir;
  const dataDir = await mkdtemp(join(dataRoot, 'greenlight-etcd-'));
  const url = `http://127.0.0.1:${clientPort}`;
  const start = async (): Promise<Started> => {
    const process = startProcess(
      'etcd',
      binary,
      [
        `--data-dir=${dataDir}`,
        `--listen-client-urls=${url}`,
        `--advertise-client-urls=${url}`,
        `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-cluster=default=http://127.0.0.1:${peerPort}`,
        '--unsafe-no-fsync=true',
        '--log-level=warn',
      ],
      { logFile: join(dir, 'etcd.log'), ...(keepData ? {} : { cleanup: dataDir }) },
    );
    await waitUntilReady(
      process,
      async () => (await probe(`${url}/health`)).body.includes('"true"'),
      timeoutMs,
    );
    return { process, again: start };
  };
  return { ...(await start()), url, dataDir };
}

interface Apiserver extends Started {
  readonly server: string;
  readonly ca: string;
  readonly tokens: Record<'admin' | 'alice' | 'bob' | 'carol', string>;
}

/** Through etcd's JSON gateway: the current revision, then a physical compaction to it. */
async function compactEtcd(etcdUrl: string): Promise<number> {
  const call = async (path: string, body: unknown): Promise<unknown> => {
    const response = await fetch(`${etcdUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
    if (!response.ok)
      throw new LocalClusterError(`etcd ${path}: HTTP ${response.status} ${await response.text()}`);
    return response.json();
  };
  // Any key will do: every answer carries the store's revision in its header.
  const range = (await call('/v3/kv/range', { key: Buffer.from('/').toString('base64') })) as {
    header?: { revision?: string };
  };
  const revision = Number(range.header?.revision);
  await call('/v3/kv/compaction', { revision: String(revision), physical: true });
  return revision;
}

interface AuditFiles {
  readonly policy: string;
  readonly log: string;
}

async function auditFiles(dir: string, policy: string): Promise<AuditFiles> {
  const files = { policy: join(dir, 'audit-policy.yaml'), log: join(dir, 'audit.log') };
  await writeFile(files.policy, policy);
  return files;
}

async function startApiserver(
  binary: string,
  options: {
    readonly dir: string;
    readonly etcdUrl: string;
    readonly timeoutMs: number;
    readonly audit: AuditFiles | undefined;
  },
): Promise<Apiserver> {
  const { dir, etcdUrl, timeoutMs, audit } = options;
  const certDir = join(dir, 'pki');
  await mkdir(certDir, { recursive: true });
  const serviceAccountKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
  await writeFile(
    join(certDir, 'sa.key'),
    serviceAccountKey.privateKey.export({ type: 'pkcs8', format: 'pem' }),
    {
      mode: 0o600,
    },
  );
  await writeFile(
    join(certDir, 'sa.pub'),
    serviceAccountKey.publicKey.export({ type: 'spki', format: 'pem' }),
  );
  const newToken = (): string => randomBytes(24).toString('base64url');
  const tokens = { admin: newToken(), alice: newToken(), bob: newToken(), carol: newToken() };
  const tokenLines = [
    tokenFileLine(tokens.admin, ADMIN),
    tokenFileLine(tokens.alice, HUMANS.alice),
    tokenFileLine(tokens.bob, HUMANS.bob),
    tokenFileLine(tokens.carol, HUMANS.carol),
  ];
  await writeFile(join(certDir, 'tokens.csv'), `${tokenLines.join('\n')}\n`, { mode: 0o600 });

  const port = await freeLoopbackPort();
  const server = `https://127.0.0.1:${port}`;
  const caFile = join(certDir, 'apiserver.crt');
  let ca = '';
  // Started again (restart), it reuses the certificate it wrote in --cert-dir, so clients still trust it.
  const start = async (): Promise<Started> => {
    const process = startProcess(
      'kube-apiserver',
      binary,
      [
        `--etcd-servers=${etcdUrl}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${port}`,
        // Without an advertise address the API server looks for a default route, which a sandbox may
        // lack; a loopback address then needs the endpoint reconciler off.
        '--advertise-address=127.0.0.1',
        '--endpoint-reconciler-type=none',
        `--cert-dir=${certDir}`, // kube-apiserver writes a self-signed serving certificate here
        `--token-auth-file=${join(certDir, 'tokens.csv')}`,
        `--service-account-issuer=${server}`,
        `--service-account-key-file=${join(certDir, 'sa.pub')}`,
        `--service-account-signing-key-file=${join(certDir, 'sa.key')}`,
        '--service-cluster-ip-range=10.0.0.0/24',
        '--authorization-mode=RBAC',
        // No ServiceAccount controller runs, so the admission plugin would wait for default accounts forever.
        '--disable-admission-plugins=ServiceAccount',
        '--allow-privileged=true',
        '--profiling=false',
        '--v=1',
        ...(audit
          ? [
              `--audit-policy-file=${audit.policy}`,
              `--audit-log-path=${audit.log}`,
              '--audit-log-format=json',
              // Written before the answer leaves, so a SIGKILL loses no event of a call that was answered.
              '--audit-log-mode=blocking',
              // One file, never rotated (readers follow it by offset); a test cluster's log is short-lived.
              '--audit-log-maxsize=1000000',
            ]
          : []),
      ],
      { logFile: join(dir, 'kube-apiserver.log') },
    );
    await waitUntilReady(
      process,
      async () => {
        if (!existsSync(caFile)) return false;
        ca = await readFile(caFile, 'utf8');
        return (await probe(`${server}/readyz`, { ca, token: tokens.admin })).status === 200;
      },
      timeoutMs,
    );
    return { process, again: start };
  };
  return { ...(await start()), server, ca, tokens };
}

async function writeKubeconfigs(
  dir: string,
  apiserver: Apiserver,
): Promise<{ kubeconfigs: Record<Identity, string>; kubeconfig: string }> {
  const names = usernames();
  const adminUser: KubeconfigUser = { name: 'admin', token: apiserver.tokens.admin };
  const ciToken = await issueCiToken(renderKubeconfig(apiserver.server, apiserver.ca, [adminUser]));
  const users: Record<Identity, KubeconfigUser> = {
    admin: adminUser,
    ci: { name: 'ci', token: ciToken },
    alice: { name: names.alice, token: apiserver.tokens.alice },
    bob: { name: names.bob, token: apiserver.tokens.bob },
    carol: { name: names.carol, token: apiserver.tokens.carol },
  };
  const kubeconfigs = {} as Record<Identity, string>;
  for (const identity of IDENTITIES) {
    const path = join(dir, `${identity}.kubeconfig`);
    await writeFile(path, renderKubeconfig(apiserver.server, apiserver.ca, [users[identity]]), {
      mode: 0o600,
    });
    kubeconfigs[identity] = path;
  }
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(
    kubeconfig,
    renderKubeconfig(
      apiserver.server,
      apiserver.ca,
      IDENTITIES.map((identity) => users[identity]),
    ),
    { mode: 0o600 },
  );
  return { kubeconfigs, kubeconfig };
}

/** Creates the CI ServiceAccount and asks the API server to sign a token for it (TokenRequest). */
async function issueCiToken(adminKubeconfig: string): Promise<string> {
  const config = new KubeConfig();
  config.loadFromString(adminKubeconfig);
  const core = config.makeApiClient(CoreV1Api);
  const { namespace, name } = CI_SERVICE_ACCOUNT;
  try {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
    const request = await core.createNamespacedServiceAccountToken({
      name,
      namespace,
      body: { spec: { audiences: [], expirationSeconds: 30 * 24 * 3600 } },
    });
    const token = request.status?.token;
    if (!token) throw new LocalClusterError('the TokenRequest answer carried no token');
    return token;
  } catch (error) {
    throw new LocalClusterError(`Could not issue a token for ${CI_USERNAME}`, { cause: error });
  }
}
