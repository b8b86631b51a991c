import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { tokenFileLine } from './identities.ts';
import { renderKubeconfig } from './kubeconfig.ts';

const ca = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('renderKubeconfig', () => {
  it('writes a kubeconfig that client-node loads, one context per user, the first one current', () => {
    const text = renderKubeconfig('https://127.0.0.1:6443', ca, [
      { name: 'admin', token: 'a-token' },
      { name: 'alice', token: 'b-token' },
    ]);
    const config = new KubeConfig();
    config.loadFromString(text);
    expect(config.getCurrentContext()).toBe('admin');
    expect(config.getContexts().map((context) => context.name)).toEqual(['admin', 'alice']);
    expect(config.getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
    expect(Buffer.from(config.getCurrentCluster()?.caData ?? '', 'base64').toString()).toBe(ca);
    expect(config.getUser('alice')?.token).toBe('b-token');
  });

  it('refuses to write a kubeconfig without users', () => {
    expect(() => renderKubeconfig('https://127.0.0.1:6443', ca, [])).toThrow(RangeError);
  });
});

describe('tokenFileLine', () => {
  it('quotes the group list as kube-apiserver --token-auth-file expects', () => {
    expect(tokenFileLine('t0k', { name: 'alice', groups: ['approvers', 'team-a'] })).toBe(
      't0k,alice,alice,"approvers,team-a"',
    );
  });
});
