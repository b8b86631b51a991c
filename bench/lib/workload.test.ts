import { describe, expect, it } from 'vitest';
import type { ApprovalRequest } from '../../src/api/v1alpha1/approval-request.ts';
import { API_VERSION } from '../../src/api/v1alpha1/schema.ts';
import { cpuUsed } from './context.ts';
import { metricValue } from './controller-process.ts';
import { EXPECTED_PHASE, paymentSpec, requestName, StatusWriter, type RequestKind } from './workload.ts';

const REQUESTER = 'system:serviceaccount:ci:pipeline';

function request(index: number, kind: RequestKind): ApprovalRequest {
  return {
    apiVersion: API_VERSION,
    kind: 'ApprovalRequest',
    metadata: {
      name: requestName('req', index),
      namespace: 'bench-test',
      uid: `uid-${String(index)}`,
      generation: 1,
      creationTimestamp: new Date('2026-05-04T10:00:00Z'),
    },
    spec: paymentSpec(index, kind, REQUESTER),
  };
}

describe('the benchmark workload', () => {
  it('names requests with a zero-padded index, so that they sort in creation order', () => {
    expect(requestName('req', 42)).toBe('req-000042');
    expect(requestName('late-10000-0', 0)).toBe('late-10000-0-000000');
  });

  it('gets from the typical policy the phase each kind is built for, at any index', () => {
    const writer = new StatusWriter('bench-test');
    const now = new Date('2026-05-04T10:00:01Z');
    for (const kind of ['approve', 'deny', 'escalate'] as const) {
      for (const index of [0, 1, 398, 399, 99_999]) {
        expect(writer.resolve(request(index, kind), now).phase, `${kind} #${String(index)}`).toBe(
          EXPECTED_PHASE[kind],
        );
      }
    }
  });
});

describe('metricValue', () => {
  const METRICS = [
    '# HELP controller_runtime_reconcile_total Total reconciliations',
    '# TYPE controller_runtime_reconcile_total counter',
    'controller_runtime_reconcile_total{controller="approvalrequest",result="success"} 2990',
    'controller_runtime_reconcile_total{controller="approvalrequest",result="requeue"} 12',
    'controller_runtime_reconcile_time_seconds_sum{controller="approvalrequest"} 4.5',
    'controller_runtime_reconcile_time_seconds_count{controller="approvalrequest"} 3002',
    'nodejs_eventloop_lag_p99_seconds 0.0123',
  ].join('\n');

  it('reads the first series whose labels contain the ones asked for', () => {
    expect(
      metricValue(
        METRICS,
        'controller_runtime_reconcile_total',
        'controller="approvalrequest",result="requeue"',
      ),
    ).toBe(12);
    expect(metricValue(METRICS, 'controller_runtime_reconcile_total')).toBe(2990);
    expect(metricValue(METRICS, 'nodejs_eventloop_lag_p99_seconds')).toBe(0.0123);
  });

  it('does not take a metric for another whose name it begins', () => {
    expect(metricValue(METRICS, 'controller_runtime_reconcile_time_seconds')).toBeUndefined();
    expect(metricValue(METRICS, 'controller_runtime_reconcile_time_seconds_count')).toBe(3002);
    expect(metricValue(METRICS, 'controller_runtime_reconcile_total', 'result="error"')).toBeUndefined();
  });
});

describe('cpuUsed', () => {
  it('gives the CPU seconds spent per process, null where a process could not be read', () => {
    expect(
      cpuUsed(
        { controller: 1.5, apiserver: 10, etcd: undefined, bench: 2 },
        { controller: 4.256, apiserver: 16.5, etcd: 3, bench: 2.5 },
      ),
    ).toEqual({ controller: 2.76, apiserver: 6.5, etcd: null, bench: 0.5 });
  });
});
