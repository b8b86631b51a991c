import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { loadClusterConfig } from '../src/k8s/cluster-config.ts';
import { CREDENTIALS_TTL_MS, KubeHttp } from '../src/k8s/kube-http.ts';
import type { Identity } from '../src/local-cluster/identities.ts';
import { cluster, kubeconfigImpersonating } from './support/cluster.ts';

// The controller's own kubeconfig and in-cluster reading (no client-node) against the real API server:
// a kubeconfig file, impersonation, and a pod's service-account files whose token rotates.

interface LocalKubeconfig {
  clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
  users: { name: string; user: { token: string } }[];
}

async function localKubeconfig(identity: Identity): Promise<LocalKubeconfig> {
  return load(await readFile(cluster().kubeconfigs[identity], 'utf8')) as LocalKubeconfig;
}

const clients: KubeHttp[] = [];
afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
});

async function whoAmI(client: KubeHttp): Promise<string | undefined> {
  const review = await client.json<{ status?: { userInfo?: { username?: string } } }>(
    'POST',
    '/apis/authentication.k8s.io/v1/selfsubjectreviews',
    { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
  );
  return review.status?.userInfo?.username;
}

describe('ClusterConfig against the API server', () => {
  it('authenticates from a kubeconfig file, and impersonates as kubectl --as does', async () => {
    const plain = KubeHttp.for(loadClusterConfig({ kubeconfig: cluster().kubeconfigs.ci }, {}));
    const impersonating = KubeHttp.for(
      loadClusterConfig({ kubeconfig: await kubeconfigImpersonating('oidc:alice@example.com') }, {}),
    );
    clients.push(plain, impersonating);
    expect(await whoAmI(plain)).toBe('system:serviceaccount:ci:deployer');
    expect(await whoAmI(impersonating)).toBe('oidc:alice@example.com');
  });

  it(
    'runs in a cluster from the service account’s files, and uses a rotated token',
    { timeout: 60_000 },
    async () => {
      const admin = await localKubeconfig('admin');
      const ci = await localKubeconfig('ci');
      const [entry] = admin.clusters;
      if (!entry) throw new Error('the local kubeconfig names no cluster');
      const server = new URL(entry.cluster.server);
      const serviceAccount = await mkdtemp(join(tmpdir(), 'greenlight-service-account-'));
      await writeFile(
        join(serviceAccount, 'ca.crt'),
        Buffer.from(entry.cluster['certificate-authority-data'], 'base64'),
      );
      await writeFile(join(serviceAccount, 'token'), `${admin.users[0]?.user.token ?? ''}\n`);
      await writeFile(join(serviceAccount, 'namespace'), 'greenlight-system');
      const env = {
        HOME: serviceAccount,
        KUBERNETES_SERVICE_HOST: server.hostname,
        KUBERNETES_SERVICE_PORT: server.port,
      };
      const client = KubeHttp.for(loadClusterConfig({}, env, serviceAccount));
      clients.push(client);
      const before = await whoAmI(client);
      expect(before).toBeDefined();

      // The kubelet rotates the projected token in place; the next credentials refresh reads it.
      await writeFile(join(serviceAccount, 'token'), ci.users[0]?.user.token ?? '');
      await new Promise((resolve) => setTimeout(resolve, CREDENTIALS_TTL_MS + 500));
      expect(await whoAmI(client)).toBe('system:serviceaccount:ci:deployer');
    },
  );
});
