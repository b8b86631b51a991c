import { describe, expect, it } from 'vitest';
import { parseToolPaths } from './tools.ts';

describe('parseToolPaths', () => {
  it('reads the NAME=PATH lines of known tools and ignores everything else', () => {
    const output = [
      'etcd=/cache/etcd-v3.6.16/etcd',
      'kube-apiserver=/cache/kube-apiserver-v1.35.4/kube-apiserver',
      'go: downloading something',
      'unknown=/somewhere',
      '',
    ].join('\n');
    expect(parseToolPaths(output)).toEqual({
      etcd: '/cache/etcd-v3.6.16/etcd',
      'kube-apiserver': '/cache/kube-apiserver-v1.35.4/kube-apiserver',
    });
  });

  it('keeps an equals sign that is part of the path', () => {
    expect(parseToolPaths('kubectl=/odd=dir/kubectl')).toEqual({ kubectl: '/odd=dir/kubectl' });
  });
});
