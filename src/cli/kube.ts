import { AuthenticationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { ConfigError } from '../errors.ts';
import { apiMessageOf } from '../k8s/api-errors.ts';
import { PooledKubeConfig } from '../k8s/pooled-kubeconfig.ts';

export interface KubeOptions {
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
  readonly namespace?: string | undefined;
}

/** Common flags of every command that talks to a cluster (parseArgs options). */
export const KUBE_FLAGS = {
  namespace: { type: 'string', short: 'n' },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
} as const;

export const KUBE_FLAGS_HELP = `  -n, --namespace NS   namespace (default: the kubeconfig context's, else default)
  --kubeconfig FILE    kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster)
  --context NAME       kubeconfig context to use`;

/** Loads the client configuration the way kubectl does: flag, $KUBECONFIG, ~/.kube/config, in-cluster. */
export function loadKubeConfig(options: KubeOptions): PooledKubeConfig {
  const config = new PooledKubeConfig();
  try {
    if (options.kubeconfig) config.loadFromFile(options.kubeconfig);
    else config.loadFromDefault();
  } catch (error) {
    throw new ConfigError(`cannot read the kubeconfig: ${apiMessageOf(error)}`, { cause: error });
  }
  if (options.context) {
    if (!config.getContextObject(options.context)) {
      throw new ConfigError(`the kubeconfig has no context "${options.context}"`);
    }
    config.setCurrentContext(options.context);
  }
  if (!config.getCurrentCluster()) {
    throw new ConfigError(
      'no cluster configured: set KUBECONFIG, pass --kubeconfig, or run inside a cluster',
    );
  }
  return config;
}

export function namespaceOf(config: KubeConfig, options: KubeOptions): string {
  return options.namespace ?? config.getContextObject(config.getCurrentContext())?.namespace ?? 'default';
}

/** Where namespaceOf() took the namespace from, in words for messages. */
export function namespaceSource(config: KubeConfig, options: KubeOptions): string {
  if (options.namespace) return '-n';
  return config.getContextObject(config.getCurrentContext())?.namespace
    ? "the kubeconfig context's namespace"
    : 'the default, as no -n was given and the kubeconfig context names no namespace';
}

export interface Identity {
  readonly username: string;
  readonly groups: readonly string[];
}

/** Who the API server says the caller is (SelfSubjectReview), as admission will see them. */
export async function whoAmI(config: KubeConfig): Promise<Identity> {
  const review = await config
    .makeApiClient(AuthenticationV1Api)
    .createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
  const user = review.status?.userInfo;
  if (!user?.username) throw new ConfigError('the API server did not say who you are (SelfSubjectReview)');
  return { username: user.username, groups: user.groups ?? [] };
}
