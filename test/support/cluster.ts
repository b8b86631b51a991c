import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump, load } from 'js-yaml';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { inject } from 'vitest';
import type { Identity } from '../../src/local-cluster/identities.ts';
import type { ClusterInfo } from './global-setup.ts';

export function cluster(): ClusterInfo {
  return inject('cluster');
}

/** A client configuration that authenticates as one of the local control plane's identities. */
export function kubeConfigAs(identity: Identity): KubeConfig {
  const config = new KubeConfig();
  config.loadFromFile(cluster().kubeconfigs[identity]);
  return config;
}

/**
 * Creates a namespace that belongs to one test. Nothing deletes it: without a controller-manager a
 * namespace never finishes terminating, and the control plane is thrown away after the run anyway.
 */
export async function createTestNamespace(prefix: string): Promise<string> {
  const slug = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, 40)
    .replace(/^-+|-+$/g, '');
  const name = `${slug}-${randomBytes(4).toString('hex')}`;
  await kubeConfigAs('admin')
    .makeApiClient(CoreV1Api)
    .createNamespace({ body: { metadata: { name, labels: { 'greenlight.dev/test': slug } } } });
  return name;
}

/**
 * A kubeconfig file that authenticates as the admin and impersonates `username` (kubectl's --as): a
 * user the local control plane has no token for, such as an OIDC-shaped oidc:alice@example.com. The
 * API server then authenticates the caller as that user, in the groups system:authenticated only.
 */
export async function kubeconfigImpersonating(username: string): Promise<string> {
  const admin = load(await readFile(cluster().kubeconfigs.admin, 'utf8')) as {
    users: { name: string; user: Record<string, unknown> }[];
  };
  const impersonating = {
    ...admin,
    users: admin.users.map((entry) => ({ ...entry, user: { ...entry.user, as: username } })),
  };
  const file = join(await mkdtemp(join(tmpdir(), 'greenlight-as-')), 'kubeconfig');
  await writeFile(file, dump(impersonating));
  return file;
}
