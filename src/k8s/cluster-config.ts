import { existsSync, readFile as readFileCallback, readFileSync } from 'node:fs';
import type https from 'node:https';
import { isIPv6 } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';
import { load } from 'js-yaml';
import { ConfigError, messageOf } from '../errors.ts';
import type { ClusterAccess } from './kube-http.ts';

/**
 * fs.readFile, promised. Not node:fs/promises: loading that module loads worker_threads and readline
 * with it (about 5 MiB of RSS in a bare node) for two file reads (docs/benchmarks.md, F12).
 */
const readFile = promisify(readFileCallback);

/**
 * The controller's own kubeconfig and in-cluster configuration, read the way client-node's KubeConfig
 * reads them (`--kubeconfig`, $KUBECONFIG, ~/.kube/config, then the pod's service account), without
 * loading client-node: its KubeConfig imports its whole generated API, about 40 MiB of a controller's
 * memory (docs/benchmarks.md, F12). Tokens, token files, client certificates, CA data and files,
 * basic auth, impersonation, `tls-server-name` and `insecure-skip-tls-verify` are handled here; a user
 * with an exec plugin or an auth provider (OIDC, cloud logins) is handed to client-node, loaded then.
 */

export interface ClusterEntry {
  readonly name: string;
  /** Without a trailing slash. */
  readonly server: string;
  readonly caData?: string | undefined;
  readonly caFile?: string | undefined;
  readonly skipTLSVerify: boolean;
  readonly tlsServerName?: string | undefined;
  readonly proxyUrl?: string | undefined;
}

export interface UserEntry {
  readonly name: string;
  readonly token?: string | undefined;
  /** Read again whenever credentials are (a projected service-account token rotates). */
  readonly tokenFile?: string | undefined;
  readonly certData?: string | undefined;
  readonly certFile?: string | undefined;
  readonly keyData?: string | undefined;
  readonly keyFile?: string | undefined;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** kubectl's --as. */
  readonly impersonateUser?: string | undefined;
  /** Handled by client-node (its shapes, passed on as read). */
  readonly exec?: unknown;
  readonly authProvider?: unknown;
}

export interface ContextEntry {
  readonly name: string;
  readonly cluster: string;
  readonly user?: string | undefined;
  readonly namespace?: string | undefined;
}

export interface Kubeconfig {
  readonly clusters: readonly ClusterEntry[];
  readonly users: readonly UserEntry[];
  readonly contexts: readonly ContextEntry[];
  readonly currentContext?: string | undefined;
}

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * Parses a kubeconfig file's text; relative file names are taken from `directory` (the file's own),
 * as kubectl does. Throws a ConfigError naming the entry that is malformed.
 */
export function parseKubeconfig(text: string, directory: string): Kubeconfig {
  const document: unknown = load(text);
  const root = record(document) ?? {};
  const path = (value: unknown): string | undefined => {
    const file = string(value);
    return file === undefined || isAbsolute(file) ? file : join(directory, file);
  };
  const clusters = list(root['clusters']).map((entry, i): ClusterEntry => {
    const name = string(entry['name']);
    const cluster = record(entry['cluster']);
    const server = string(cluster?.['server']);
    if (!name) throw new ConfigError(`clusters[${i}].name is missing`);
    if (!cluster || !server) throw new ConfigError(`clusters[${i}].cluster.server is missing`);
    return {
      name,
      server: server.replace(/\/$/, ''),
      caData: string(cluster['certificate-authority-data']),
      caFile: path(cluster['certificate-authority']),
      skipTLSVerify: cluster['insecure-skip-tls-verify'] === true,
      tlsServerName: string(cluster['tls-server-name']),
      proxyUrl: string(cluster['proxy-url']),
    };
  });
  const users = list(root['users']).map((entry, i): UserEntry => {
    const name = string(entry['name']);
    if (!name) throw new ConfigError(`users[${i}].name is missing`);
    const user = record(entry['user']) ?? {};
    return {
      name,
      token: string(user['token']),
      tokenFile: path(user['token-file']),
      certData: string(user['client-certificate-data']),
      certFile: path(user['client-certificate']),
      keyData: string(user['client-key-data']),
      keyFile: path(user['client-key']),
      username: string(user['username']),
      password: string(user['password']),
      impersonateUser: string(user['as']),
      exec: user['exec'] ?? undefined,
      authProvider: user['auth-provider'] ?? undefined,
    };
  });
  const contexts = list(root['contexts']).map((entry, i): ContextEntry => {
    const name = string(entry['name']);
    const context = record(entry['context']);
    const cluster = string(context?.['cluster']);
    if (!name) throw new ConfigError(`contexts[${i}].name is missing`);
    if (!context || !cluster) throw new ConfigError(`contexts[${i}].context.cluster is missing`);
    return {
      name,
      cluster,
      user: nonEmpty(context['user']),
      namespace: nonEmpty(context['namespace']),
    };
  });
  return { clusters, users, contexts, currentContext: string(root['current-context']) };
}

/**
 * Several kubeconfig files ($KUBECONFIG=a:b) as one: as client-node merges them, a later file's
 * current-context wins; an entry's name, once defined, keeps its first definition (client-node refuses
 * duplicates).
 */
export function mergeKubeconfigs(configs: readonly Kubeconfig[]): Kubeconfig {
  const byName = <T extends { readonly name: string }>(entries: readonly T[]): T[] => {
    const seen = new Map<string, T>();
    for (const entry of entries) if (!seen.has(entry.name)) seen.set(entry.name, entry);
    return [...seen.values()];
  };
  return {
    clusters: byName(configs.flatMap((config) => config.clusters)),
    users: byName(configs.flatMap((config) => config.users)),
    contexts: byName(configs.flatMap((config) => config.contexts)),
    currentContext: configs.reduce<string | undefined>(
      (current, config) => nonEmpty(config.currentContext) ?? current,
      undefined,
    ),
  };
}

/**
 * The in-cluster configuration (client-go's and client-node's): the API server at
 * KUBERNETES_SERVICE_HOST:PORT (plain HTTP on 80, 8080 and 8001), the service account's CA and token
 * files (the token read again as it rotates), and its namespace.
 */
export function inClusterKubeconfig(
  env: Readonly<Record<string, string | undefined>>,
  root: string = SERVICE_ACCOUNT,
): Kubeconfig {
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'];
  if (!host || !port)
    throw new ConfigError('running in a cluster, but KUBERNETES_SERVICE_HOST or _PORT is not set');
  const scheme = port === '80' || port === '8080' || port === '8001' ? 'http' : 'https';
  const server = `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  let namespace: string | undefined;
  try {
    namespace = readFileSync(join(root, 'namespace'), 'utf8').trim() || undefined;
  } catch {
    namespace = undefined;
  }
  return {
    clusters: [{ name: 'inCluster', server, caFile: join(root, 'ca.crt'), skipTLSVerify: false }],
    users: [{ name: 'inClusterUser', tokenFile: join(root, 'token') }],
    contexts: [{ name: 'inClusterContext', cluster: 'inCluster', user: 'inClusterUser', namespace }],
    currentContext: 'inClusterContext',
  };
}

export interface LoadOptions {
  /** `--kubeconfig`. */
  readonly kubeconfig?: string | undefined;
  /** `--context`. */
  readonly context?: string | undefined;
}

/**
 * Loads the client configuration the way kubectl does: the flag, $KUBECONFIG (files separated by the
 * path delimiter), ~/.kube/config, then in-cluster (when the service account's token is mounted).
 */
export function loadClusterConfig(
  options: LoadOptions,
  env: Readonly<Record<string, string | undefined>> = process.env,
  serviceAccount: string = SERVICE_ACCOUNT,
): ClusterConfig {
  let kubeconfig: Kubeconfig | undefined;
  try {
    kubeconfig = readKubeconfig(options, env, serviceAccount);
  } catch (error) {
    throw new ConfigError(`cannot read the kubeconfig: ${messageOf(error)}`, { cause: error });
  }
  const config = new ClusterConfig(kubeconfig ?? { clusters: [], users: [], contexts: [] });
  if (options.context) {
    if (!config.hasContext(options.context))
      throw new ConfigError(`the kubeconfig has no context "${options.context}"`);
    config.setCurrentContext(options.context);
  }
  if (!config.getCurrentCluster()) {
    throw new ConfigError(
      'no cluster configured: set KUBECONFIG, pass --kubeconfig, or run inside a cluster',
    );
  }
  return config;
}

/** The files (merged), else ~/.kube/config, else in-cluster; undefined when there is none of them. */
function readKubeconfig(
  options: LoadOptions,
  env: Readonly<Record<string, string | undefined>>,
  serviceAccount: string,
): Kubeconfig | undefined {
  const files = options.kubeconfig
    ? [options.kubeconfig]
    : (env['KUBECONFIG'] ?? '').split(delimiter).filter((file) => file !== '');
  if (files.length === 0) {
    const defaultFile = join(env['HOME'] ?? homedir(), '.kube', 'config');
    if (existsSync(defaultFile)) files.push(defaultFile);
  }
  if (files.length > 0) {
    return mergeKubeconfigs(files.map((file) => parseKubeconfig(readFileSync(file, 'utf8'), dirname(file))));
  }
  return existsSync(join(serviceAccount, 'token')) ? inClusterKubeconfig(env, serviceAccount) : undefined;
}

/** A loaded client configuration; KubeHttp reads credentials from it (`applyToHTTPSOptions`). */
export class ClusterConfig implements ClusterAccess {
  readonly #config: Kubeconfig;
  #currentContext: string | undefined;
  /** client-node's KubeConfig, for a user with an exec plugin or auth provider only. */
  #delegate: Promise<ClusterAccess> | undefined;

  constructor(config: Kubeconfig) {
    this.#config = config;
    this.#currentContext = config.currentContext;
  }

  hasContext(name: string): boolean {
    return this.#config.contexts.some((context) => context.name === name);
  }

  setCurrentContext(name: string): void {
    this.#currentContext = name;
    this.#delegate = undefined;
  }

  getCurrentContext(): ContextEntry | undefined {
    return this.#config.contexts.find((context) => context.name === this.#currentContext);
  }

  getCurrentCluster(): ClusterEntry | null {
    const name = this.getCurrentContext()?.cluster;
    return this.#config.clusters.find((cluster) => cluster.name === name) ?? null;
  }

  getCurrentUser(): UserEntry | undefined {
    const name = this.getCurrentContext()?.user;
    return this.#config.users.find((user) => user.name === name);
  }

  async applyToHTTPSOptions(options: https.RequestOptions): Promise<void> {
    const cluster = this.getCurrentCluster();
    if (cluster === null) throw new ConfigError('the kubeconfig has no current cluster');
    const user = this.getCurrentUser();
    if (user?.exec !== undefined || user?.authProvider !== undefined) {
      this.#delegate ??= this.#clientNode();
      await (await this.#delegate).applyToHTTPSOptions(options);
      return;
    }
    await applyCluster(cluster, options);
    if (user) await applyUser(user, options);
  }

  /**
   * client-node's KubeConfig over the same entries (its own field names), for what only it does: exec
   * plugins and auth providers. Loaded on first use, so a controller without them never loads it.
   */
  async #clientNode(): Promise<ClusterAccess> {
    const { KubeConfig } = await import('@kubernetes/client-node');
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: this.#config.clusters.map((cluster) => ({ ...cluster })),
      users: this.#config.users.map((user) => ({
        ...user,
        // client-node reads `token-file` once, when it loads a kubeconfig.
        token: user.token ?? (user.tokenFile ? readFileSync(user.tokenFile, 'utf8').trim() : undefined),
      })),
      contexts: this.#config.contexts.map((context) => ({ ...context })),
      currentContext: this.#currentContext ?? '',
    });
    return config;
  }
}

/** The cluster's TLS checks and CA. */
async function applyCluster(cluster: ClusterEntry, options: https.RequestOptions): Promise<void> {
  if (cluster.server.startsWith('http:') && !cluster.skipTLSVerify) {
    // As client-node: credentials are not sent in the clear unless the kubeconfig says so.
    throw new ConfigError('HTTP protocol is not allowed when skipTLSVerify is not set or false');
  }
  if (cluster.skipTLSVerify) options.rejectUnauthorized = false;
  if (cluster.tlsServerName) options.servername = cluster.tlsServerName;
  const ca = await material(cluster.caFile, cluster.caData);
  if (ca) options.ca = ca;
}

/** The user's client certificate, token (a token file read now), basic auth and impersonation. */
async function applyUser(user: UserEntry, options: https.RequestOptions): Promise<void> {
  const cert = await material(user.certFile, user.certData);
  if (cert) options.cert = cert;
  const key = await material(user.keyFile, user.keyData);
  if (key) options.key = key;
  const headers: Record<string, string> = {};
  if (user.impersonateUser) headers['Impersonate-User'] = user.impersonateUser;
  const token = user.token ?? (user.tokenFile ? (await readFile(user.tokenFile, 'utf8')).trim() : undefined);
  if (token) headers['Authorization'] = `Bearer ${token}`;
  if (user.username) options.auth = `${user.username}:${user.password ?? ''}`;
  options.headers = { ...(options.headers as Record<string, string> | undefined), ...headers };
}

/** A CA, certificate or key: the file's bytes (read on every call, so rotation is seen), else the data. */
async function material(file: string | undefined, data: string | undefined): Promise<Buffer | undefined> {
  if (file) return readFile(file);
  if (data) return Buffer.from(data, 'base64');
  return undefined;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function list(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.map((entry: unknown) => record(entry) ?? {}) : [];
}

/** A string that is not empty. */
function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function string(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
