import { KubeConfig } from '@kubernetes/client-node';
import type { TestProject } from 'vitest/node';
import { installUserRoles, linkSlackIdentities } from '../../src/demo/setup.ts';
import { startLocalCluster } from '../../src/local-cluster/control-plane.ts';
import type { Identity } from '../../src/local-cluster/identities.ts';
import { installAdmissionPolicies, installCrds } from '../../src/local-cluster/kubectl.ts';

export interface ClusterInfo {
  readonly server: string;
  readonly dir: string;
  readonly kubeconfigs: Readonly<Record<Identity, string>>;
  /** One kubeconfig with a context per identity (admin current), as `greenlight demo` prints it. */
  readonly kubeconfig: string;
  readonly usernames: Readonly<Record<Identity, string>>;
  readonly kubectl: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: ClusterInfo;
  }
}

/**
 * One real control plane for the whole run, with Greenlight's generated CRDs and admission policies
 * applied as a user would, the ClusterRoles the chart ships for people and pipelines, and alice, bob
 * and carol's Slack accounts linked to their Kubernetes users;
 * stopped (and its state removed) when the run ends.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const cluster = await startLocalCluster({
    onProgress: (message) => {
      process.stderr.write(`[control plane] ${message}\n`);
    },
  });
  try {
    await installCrds(cluster.kubectl, cluster.kubeconfigs.admin);
    await installAdmissionPolicies(cluster.kubectl, cluster.kubeconfigs.admin);
    const admin = new KubeConfig();
    admin.loadFromFile(cluster.kubeconfigs.admin);
    await linkSlackIdentities(admin);
    await installUserRoles(admin);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  process.stderr.write(`[control plane] started in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
  project.provide('cluster', {
    server: cluster.server,
    dir: cluster.dir,
    kubeconfigs: cluster.kubeconfigs,
    kubeconfig: cluster.kubeconfig,
    usernames: cluster.usernames,
    kubectl: cluster.kubectl,
  });
  return () => cluster.stop();
}
