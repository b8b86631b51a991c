import { describe, expect, it } from 'vitest';
import { parseToolPaths } from './tools.ts';

describe('parseToolPaths', () => {
  it('reads the NAME=PATH lines of known tools and ignores everything else', () => {
    const output = [
      'etcd=/cache/etcd-v3.6.16/etcd',
      'kube-apiserver=/cache/kube-apiserver-v1.37.2/kube-apiserver',
      'kstatus=/cache/kstatus-v0.37.2-b62b4e4314f8/kstatus',
      'argo-lua=/cache/argo-lua-v1.1.2-1412884227e6/argo-lua',
      'go: downloading something',
      'unknown=/somewhere',
      '',
    ].join('\n');
    expect(parseToolPaths(output)).toEqual({
      etcd: '/cache/etcd-v3.6.16/etcd',
      'kube-apiserver': '/cache/kube-apiserver-v1.37.2/kube-apiserver',
      kstatus: '/cache/kstatus-v0.37.2-b62b4e4314f8/kstatus',
      'argo-lua': '/cache/argo-lua-v1.1.2-1412884227e6/argo-lua',
    });
  });

  it('reads a line of a tool named with a dash only as that tool', () => {
    expect(parseToolPaths('argo-lua=/a\nargo=/b\nlua=/c')).toEqual({ 'argo-lua': '/a' });
  });

  it('keeps an equals sign that is part of the path', () => {
    expect(parseToolPaths('kubectl=/odd=dir/kubectl')).toEqual({ kubectl: '/odd=dir/kubectl' });
  });
});
