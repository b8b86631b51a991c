import { describe, expect, it } from 'vitest';
import type { ApprovalPolicy, ApprovalPolicySpec } from '../api/v1alpha1/approval-policy.ts';
import type { ApprovalRequest } from '../api/v1alpha1/approval-request.ts';
import { deadline } from './expiry.ts';

const created = '2026-11-26T10:00:00Z';
const request = (timeout?: string): ApprovalRequest => ({
  apiVersion: 'greenlight.dev/v1alpha1',
  kind: 'ApprovalRequest',
  metadata: { name: 'r', creationTimestamp: created },
  spec: { action: 'payment', requester: 'ci', ...(timeout ? { timeout } : {}) },
});
const policy = (name: string, spec: ApprovalPolicySpec): ApprovalPolicy => ({
  apiVersion: 'greenlight.dev/v1alpha1',
  kind: 'ApprovalPolicy',
  metadata: { name },
  spec,
});
const escalating = (name: string, timeout?: string, mode?: 'DryRun'): ApprovalPolicy =>
  policy(name, {
    escalation: { approvers: { kubernetesGroups: ['approvers'] }, ...(timeout ? { timeout } : {}) },
    ...(mode ? { mode } : {}),
  });

describe('deadline', () => {
  it('is unlimited without a request timeout or an escalating policy', () => {
    expect(deadline(request(), [policy('plain', {})])).toBeUndefined();
  });

  it("uses the request's own timeout", () => {
    expect(deadline(request('90s'), [])).toEqual({
      at: new Date('2026-11-26T10:01:30Z'),
      source: "the request's timeout of 90s",
    });
  });

  it('caps it with the default escalation timeout of 24h', () => {
    expect(deadline(request('48h'), [escalating('payments')])).toEqual({
      at: new Date('2026-11-27T10:00:00Z'),
      source: 'the escalation timeout of 24h of policy payments',
    });
  });

  it('takes the tightest of several limits, ignoring DryRun policies', () => {
    const result = deadline(request('2h'), [escalating('a', '1h'), escalating('b', '30m', 'DryRun')]);
    expect(result?.at).toEqual(new Date('2026-11-26T11:00:00Z'));
    expect(result?.source).toBe('the escalation timeout of 1h of policy a');
  });
});
