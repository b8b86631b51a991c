import { describe, expect, it } from 'vitest';
import { UNDECIDED_FIELD_SELECTOR, type ApprovalRequest } from '../../api/v1alpha1/approval-request.ts';
import { cachedRequest } from './cache.ts';

const request = (status: ApprovalRequest['status']): ApprovalRequest => ({
  apiVersion: 'greenlight.dev/v1alpha1',
  kind: 'ApprovalRequest',
  metadata: {
    name: 'pay-1',
    namespace: 'finance',
    uid: 'u-1',
    resourceVersion: '42',
    generation: 1,
    creationTimestamp: '2026-11-26T10:00:00Z',
    labels: { team: 'payments' },
    managedFields: [{ manager: 'greenlight' }],
  } as ApprovalRequest['metadata'],
  spec: {
    action: 'payment',
    resource: 'invoice/INV-1',
    requester: 'system:serviceaccount:ci:deployer',
    parameters: { amount: 120, currency: 'USD' },
  },
  ...(status ? { status } : {}),
});

const decision = {
  outcome: 'Approved',
  decidedBy: 'policy:payments/below-500',
  reason: 'payments below $500',
  decidedAt: '2026-11-26T10:00:01Z',
} as const;

describe('cachedRequest', () => {
  it('keeps an undecided request whole, without managedFields', () => {
    const escalated = request({ phase: 'Escalated', conditions: [], approvals: [] });
    const cached = cachedRequest(structuredClone(escalated));
    expect(cached.metadata).not.toHaveProperty('managedFields');
    expect(cached.spec).toEqual(escalated.spec);
    expect(cached.status).toEqual(escalated.status);
    expect(cachedRequest(request(undefined)).spec.parameters).toEqual({ amount: 120, currency: 'USD' });
  });

  it('keeps only a stub of a final request: identity, action, requester, phase and decision', () => {
    const approved = request({ phase: 'Approved', decision, conditions: [], evaluations: [] });
    expect(cachedRequest(approved)).toEqual({
      apiVersion: 'greenlight.dev/v1alpha1',
      kind: 'ApprovalRequest',
      metadata: {
        name: 'pay-1',
        namespace: 'finance',
        uid: 'u-1',
        resourceVersion: '42',
        creationTimestamp: '2026-11-26T10:00:00Z',
      },
      spec: { action: 'payment', requester: 'system:serviceaccount:ci:deployer' },
      status: { phase: 'Approved', decision },
    });
  });
});

describe('UNDECIDED_FIELD_SELECTOR', () => {
  it('leaves out exactly the final phases', () => {
    expect(UNDECIDED_FIELD_SELECTOR).toBe(
      'status.phase!=Approved,status.phase!=Denied,status.phase!=Expired',
    );
  });
});
