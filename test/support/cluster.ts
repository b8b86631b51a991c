import { randomBytes } from 'node:crypto';
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
