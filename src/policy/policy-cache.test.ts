import { describe, expect, it } from 'vitest';
import type { ApprovalPolicy } from '../api/v1alpha1/approval-policy.ts';
import { CompiledPolicyCache } from './policy-cache.ts';

const policy = (generation: number, when: string): ApprovalPolicy => ({
  apiVersion: 'greenlight.dev/v1alpha1',
  kind: 'ApprovalPolicy',
  metadata: { name: 'p', namespace: 'ns', uid: 'uid-1', generation },
  spec: { rules: [{ name: 'r', when, decision: 'Approve' }] },
});

describe('CompiledPolicyCache', () => {
  it('compiles a generation once and recompiles when the generation changes', () => {
    const cache = new CompiledPolicyCache();
    const first = cache.get(policy(1, 'params.amount < 500'));
    expect(cache.get(policy(1, 'params.amount < 500'))).toBe(first);
    const second = cache.get(policy(2, 'params.amount <'));
    expect(second).not.toBe(first);
    expect(second.problems.map((p) => p.field)).toEqual(['spec.rules[0].when']);
    expect(cache.size).toBe(1);
  });

  it('forgets deleted policies', () => {
    const cache = new CompiledPolicyCache();
    cache.get(policy(1, 'true'));
    cache.delete(policy(1, 'true'));
    expect(cache.size).toBe(0);
  });
});
