import { describe, expect, it } from 'vitest';
import { leaseWriteOf, statusWriteOf } from './audit.ts';

// Audit events in the shape kube-apiserver writes them (audit.k8s.io/v1, --audit-log-format=json).
function auditLine(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'RequestResponse',
    stage: 'ResponseComplete',
    stageTimestamp: '2026-12-06T20:41:07.123456Z',
    verb: 'patch',
    userAgent: 'greenlight-controller (node-1_0a1b2c3d)',
    objectRef: {
      resource: 'approvalrequests',
      subresource: 'status',
      namespace: 'chaos-leader-kill',
      name: 'req-17',
      apiGroup: 'greenlight.dev',
    },
    responseStatus: { metadata: {}, code: 200 },
    responseObject: { metadata: { name: 'req-17', resourceVersion: '4711' }, status: { phase: 'Denied' } },
    ...overrides,
  });
}

describe('the audit log reader', () => {
  it('reads a controller status write: its process, the version it left, and the phase', () => {
    expect(statusWriteOf(auditLine())).toEqual({
      namespace: 'chaos-leader-kill',
      name: 'req-17',
      writer: 'node-1_0a1b2c3d',
      resourceVersion: 4711,
      phase: 'Denied',
      at: Date.parse('2026-12-06T20:41:07.123Z'),
    });
  });

  it('skips refused writes, other clients and the stage before the answer', () => {
    expect(statusWriteOf(auditLine({ responseStatus: { code: 409 } }))).toBeUndefined();
    expect(statusWriteOf(auditLine({ userAgent: 'kubectl/v1.37.2 (linux/amd64)' }))).toBeUndefined();
    expect(statusWriteOf(auditLine({ stage: 'ResponseStarted' }))).toBeUndefined();
  });

  it('reads a lease write: the version it left and who holds the lease then, whoever wrote it', () => {
    const leaseWrite = {
      verb: 'update',
      userAgent: 'kube-controller-manager/v1.35.0',
      objectRef: {
        resource: 'leases',
        namespace: 'chaos-etcd-kill',
        name: 'greenlight-controller',
        apiGroup: 'coordination.k8s.io',
      },
      responseObject: {
        metadata: { name: 'greenlight-controller', resourceVersion: '4002' },
        spec: { holderIdentity: 'node-2_44556677', leaseDurationSeconds: 3 },
      },
    };
    const leaseLine = auditLine(leaseWrite);
    expect(leaseWriteOf(leaseLine)).toEqual({
      namespace: 'chaos-etcd-kill',
      name: 'greenlight-controller',
      resourceVersion: 4002,
      holder: 'node-2_44556677',
    });
    expect(statusWriteOf(leaseLine)).toBeUndefined();
    expect(leaseWriteOf(auditLine())).toBeUndefined();
    expect(leaseWriteOf(auditLine({ ...leaseWrite, responseStatus: { code: 409 } }))).toBeUndefined();
  });
});
