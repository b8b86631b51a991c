import { dump } from 'js-yaml';

export interface KubeconfigUser {
  readonly name: string;
  readonly token: string;
}

/**
 * A kubeconfig with one context per user against one API server; the first user is the current
 * context. `caData` is the PEM bundle that signed the server's certificate.
 */
export function renderKubeconfig(server: string, caData: string, users: readonly KubeconfigUser[]): string {
  const [first] = users;
  if (!first) throw new RangeError('a kubeconfig needs at least one user');
  const cluster = 'greenlight-local';
  return dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: cluster,
        cluster: { server, 'certificate-authority-data': Buffer.from(caData).toString('base64') },
      },
    ],
    users: users.map((user) => ({ name: user.name, user: { token: user.token } })),
    contexts: users.map((user) => ({
      name: user.name,
      context: { cluster, user: user.name, namespace: 'default' },
    })),
    'current-context': first.name,
    preferences: {},
  });
}
