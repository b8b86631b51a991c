import { mkdtempSync, writeFileSync } from 'node:fs';
import type https from 'node:https';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { dump } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import {
  ClusterConfig,
  inClusterKubeconfig,
  loadClusterConfig,
  mergeKubeconfigs,
  parseKubeconfig,
  type Kubeconfig,
} from './cluster-config.ts';

const base64 = (text: string): string => Buffer.from(text).toString('base64');

function kubeconfigText(options: {
  server?: string;
  user?: Record<string, unknown>;
  cluster?: Record<string, unknown>;
  current?: string;
  name?: string;
}): string {
  const name = options.name ?? 'dev';
  return dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: options.server ?? 'https://api.dev:6443/', ...options.cluster } }],
    users: [{ name, user: options.user ?? { token: 'secret-token' } }],
    contexts: [{ name, context: { cluster: name, user: name, namespace: 'team' } }],
    'current-context': options.current ?? name,
  });
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'greenlight-cluster-config-'));
}

async function applied(config: ClusterConfig): Promise<https.RequestOptions> {
  const options: https.RequestOptions = {};
  await config.applyToHTTPSOptions(options);
  return options;
}

describe('parseKubeconfig', () => {
  it('reads clusters, users and contexts, with file names taken from the file’s own folder', () => {
    const parsed = parseKubeconfig(
      kubeconfigText({
        cluster: { 'certificate-authority': 'ca.crt', 'tls-server-name': 'kubernetes' },
        user: { 'client-certificate': 'certs/me.crt', 'client-key': '/abs/me.key', as: 'alice' },
      }),
      '/home/me/.kube',
    );
    expect(parsed.clusters).toEqual([
      expect.objectContaining({
        name: 'dev',
        server: 'https://api.dev:6443',
        caFile: '/home/me/.kube/ca.crt',
        tlsServerName: 'kubernetes',
        skipTLSVerify: false,
      }),
    ]);
    expect(parsed.users[0]).toMatchObject({
      certFile: '/home/me/.kube/certs/me.crt',
      keyFile: '/abs/me.key',
      impersonateUser: 'alice',
    });
    expect(parsed.contexts).toEqual([{ name: 'dev', cluster: 'dev', user: 'dev', namespace: 'team' }]);
    expect(parsed.currentContext).toBe('dev');
  });

  it('names the malformed entry, without its contents', () => {
    const text = dump({ clusters: [{ name: 'dev', cluster: {} }] });
    expect(() => parseKubeconfig(text, '/')).toThrow(
      new ConfigError('clusters[0].cluster.server is missing'),
    );
  });
});

describe('mergeKubeconfigs', () => {
  it('keeps the first definition of a name, and the last current-context (as client-node)', () => {
    const a = parseKubeconfig(kubeconfigText({ name: 'a', server: 'https://a' }), '/');
    const b = parseKubeconfig(kubeconfigText({ name: 'b', server: 'https://b' }), '/');
    const again = parseKubeconfig(kubeconfigText({ name: 'a', server: 'https://other' }), '/');
    const merged = mergeKubeconfigs([a, b, { ...again, currentContext: undefined }]);
    expect(merged.clusters.map((cluster) => cluster.server)).toEqual(['https://a', 'https://b']);
    expect(merged.currentContext).toBe('b');
  });
});

describe('inClusterKubeconfig', () => {
  it('uses the service account’s files and brackets an IPv6 service host', () => {
    const root = tempDir();
    writeFileSync(join(root, 'namespace'), 'greenlight\n');
    const config = inClusterKubeconfig(
      { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' },
      root,
    );
    expect(config.clusters[0]).toMatchObject({
      server: 'https://[fd00::1]:443',
      caFile: join(root, 'ca.crt'),
    });
    expect(config.users[0]).toMatchObject({ tokenFile: join(root, 'token') });
    expect(config.contexts[0]?.namespace).toBe('greenlight');
  });

  it('talks plain HTTP on the ports client-go does, and refuses without the service variables', () => {
    const config = inClusterKubeconfig({
      KUBERNETES_SERVICE_HOST: '10.0.0.1',
      KUBERNETES_SERVICE_PORT: '8080',
    });
    expect(config.clusters[0]?.server).toBe('http://10.0.0.1:8080');
    expect(() => inClusterKubeconfig({})).toThrow(ConfigError);
  });
});

describe('loadClusterConfig', () => {
  it('prefers the flag, then $KUBECONFIG (several files), then in-cluster', () => {
    const dir = tempDir();
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    writeFileSync(a, kubeconfigText({ name: 'a', server: 'https://a' }));
    writeFileSync(b, kubeconfigText({ name: 'b', server: 'https://b' }));
    const env = { KUBECONFIG: `${a}${delimiter}${b}`, HOME: dir };
    expect(loadClusterConfig({}, env, dir).getCurrentCluster()?.server).toBe('https://b');
    expect(loadClusterConfig({ kubeconfig: a }, env, dir).getCurrentCluster()?.server).toBe('https://a');
    expect(loadClusterConfig({ context: 'a' }, env, dir).getCurrentCluster()?.server).toBe('https://a');

    const serviceAccount = tempDir();
    writeFileSync(join(serviceAccount, 'token'), 'sa-token');
    const inCluster = loadClusterConfig(
      {},
      { HOME: dir, KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' },
      serviceAccount,
    );
    expect(inCluster.getCurrentCluster()?.server).toBe('https://10.0.0.1:443');
  });

  it('says what is missing: a context, a cluster, a file', () => {
    const dir = tempDir();
    const file = join(dir, 'config');
    writeFileSync(file, kubeconfigText({}));
    expect(() => loadClusterConfig({ kubeconfig: file, context: 'prod' }, {}, dir)).toThrow(
      'the kubeconfig has no context "prod"',
    );
    expect(() => loadClusterConfig({}, { HOME: dir }, dir)).toThrow(/no cluster configured/);
    expect(() => loadClusterConfig({ kubeconfig: join(dir, 'missing') }, {}, dir)).toThrow(
      /cannot read the kubeconfig/,
    );
  });
});

describe('ClusterConfig credentials', () => {
  const config = (user: Record<string, unknown>, cluster: Record<string, unknown> = {}): ClusterConfig =>
    new ClusterConfig(parseKubeconfig(kubeconfigText({ user, cluster }), '/'));

  it('puts a bearer token, the CA, impersonation and the server name on the request', async () => {
    const options = await applied(
      config(
        { token: 'secret-token', as: 'alice' },
        { 'certificate-authority-data': base64('CA PEM'), 'tls-server-name': 'kubernetes' },
      ),
    );
    expect(options.headers).toEqual({ Authorization: 'Bearer secret-token', 'Impersonate-User': 'alice' });
    expect(String(options.ca as Buffer)).toBe('CA PEM');
    expect(options.servername).toBe('kubernetes');
    expect(options.rejectUnauthorized).toBeUndefined();
  });

  it('reads client certificates from data or files, and basic auth', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'me.key'), 'KEY PEM');
    const options = await applied(
      config(
        { 'client-certificate-data': base64('CERT PEM'), 'client-key': join(dir, 'me.key') },
        { 'insecure-skip-tls-verify': true },
      ),
    );
    expect(String(options.cert as Buffer)).toBe('CERT PEM');
    expect(String(options.key as Buffer)).toBe('KEY PEM');
    expect(options.rejectUnauthorized).toBe(false);
    const basic = await applied(config({ username: 'admin', password: 'pw' }));
    expect(basic.auth).toBe('admin:pw');
  });

  it('reads a token file again each time, so a rotated service-account token is used', async () => {
    const dir = tempDir();
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'first\n');
    const inCluster: Kubeconfig = {
      ...inClusterKubeconfig({ KUBERNETES_SERVICE_HOST: 'h', KUBERNETES_SERVICE_PORT: '443' }, dir),
      clusters: [{ name: 'inCluster', server: 'https://h:443', skipTLSVerify: false }],
    };
    const cluster = new ClusterConfig(inCluster);
    expect((await applied(cluster)).headers).toEqual({ Authorization: 'Bearer first' });
    writeFileSync(tokenFile, 'second');
    expect((await applied(cluster)).headers).toEqual({ Authorization: 'Bearer second' });
  });

  it('refuses plain HTTP unless the kubeconfig skips TLS verification, as client-node does', async () => {
    const plain = new ClusterConfig(parseKubeconfig(kubeconfigText({ server: 'http://api:8080' }), '/'));
    await expect(applied(plain)).rejects.toThrow(/HTTP protocol is not allowed/);
  });

  // Loading client-node and running the plugin take a few seconds on a busy machine.
  it('hands a user with an exec plugin to client-node', { timeout: 60_000 }, async () => {
    const exec = {
      apiVersion: 'client.authentication.k8s.io/v1',
      command: process.execPath,
      args: [
        '-e',
        'process.stdout.write(JSON.stringify({apiVersion:"client.authentication.k8s.io/v1",kind:"ExecCredential",status:{token:"from-exec"}}))',
      ],
      interactiveMode: 'Never',
    };
    const options = await applied(config({ exec }));
    expect((options.headers as Record<string, string>)['Authorization']).toBe('Bearer from-exec');
  });
});
