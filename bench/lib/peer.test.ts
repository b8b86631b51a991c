import { describe, expect, it } from 'vitest';
import { cachedVersion, toolPath } from './peer.ts';

describe('toolPath', () => {
  it('reads the NAME=PATH line of one tool from hack/build-tools.sh', () => {
    const output =
      'etcd=/c/etcd-v3.7.3/etcd\ngreenlight-peer=/c/greenlight-peer-v0.25.3-ab12/greenlight-peer\n';
    expect(toolPath(output, 'greenlight-peer')).toBe('/c/greenlight-peer-v0.25.3-ab12/greenlight-peer');
    expect(toolPath(output, 'kubectl')).toBeUndefined();
  });
});

describe('cachedVersion', () => {
  it('is the version in the cache folder’s name, without a source digest or suffix', () => {
    expect(cachedVersion('/c/kube-apiserver-v1.37.2/kube-apiserver')).toBe('v1.37.2');
    expect(cachedVersion('/c/greenlight-peer-v0.25.3-ab12cd/greenlight-peer')).toBe('v0.25.3');
    expect(cachedVersion('/usr/bin/etcd')).toBeUndefined();
    expect(cachedVersion(undefined)).toBeUndefined();
  });
});
