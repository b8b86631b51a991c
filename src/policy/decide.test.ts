import { describe, expect, it } from 'vitest';
import type { ApprovalPolicy, ApprovalPolicySpec } from '../api/v1alpha1/approval-policy.ts';
import type { ApprovalRequest, ApprovalRequestSpec } from '../api/v1alpha1/approval-request.ts';
import { compilePolicy } from './compile-policy.ts';
import { decide, type DecideInput } from './decide.ts';
import { contextUnavailable } from './evaluate-policy.ts';
import type { JudgedApproval } from './verdict.ts';

const now = new Date('2026-11-26T12:00:00Z');

function request(spec: Partial<ApprovalRequestSpec>, created = '2026-11-26T11:59:00Z'): ApprovalRequest {
  return {
    apiVersion: 'greenlight.dev/v1alpha1',
    kind: 'ApprovalRequest',
    metadata: { name: 'req', namespace: 'shop', uid: 'u1', creationTimestamp: created },
    spec: { action: 'payment', requester: 'system:serviceaccount:ci:payments', ...spec },
  };
}

function policy(name: string, spec: ApprovalPolicySpec): ApprovalPolicy {
  return {
    apiVersion: 'greenlight.dev/v1alpha1',
    kind: 'ApprovalPolicy',
    metadata: { name, namespace: 'shop', generation: 1 },
    spec,
  };
}

const payments = policy('payments', {
  selector: { actions: ['payment'] },
  rules: [
    {
      name: 'huge',
      when: 'params.amount >= 100000',
      decision: 'Deny',
      message: 'too large for this workflow',
    },
    {
      name: 'small',
      when: "params.amount < 500 && params.currency == 'USD'",
      decision: 'Approve',
      message: 'below $500',
    },
  ],
  escalation: {
    slack: { channel: '#payments' },
    approvers: { kubernetesGroups: ['approvers'] },
    requiredApprovals: 1,
  },
});

const staging = policy('staging-soak', {
  selector: { actions: ['deploy'] },
  context: [
    {
      name: 'soak',
      resource: { apiVersion: 'v1', kind: 'ConfigMap', nameExpression: "request.spec.resource + '-staging'" },
    },
  ],
  rules: [
    {
      name: 'green-24h',
      when: "soak != null && now - timestamp(soak.data.greenSince) >= duration('24h')",
      decision: 'Approve',
      message: 'green in staging for 24 hours',
    },
  ],
  defaultDecision: 'Hold',
});

function run(overrides: Partial<DecideInput> & Pick<DecideInput, 'request'>) {
  return decide({
    policies: [payments, staging].map(compilePolicy),
    lookup: () => null,
    approvals: [],
    now,
    ...overrides,
  });
}

describe('decide', () => {
  it('approves a $450 payment by rule, with the why-trace of every rule looked at', () => {
    const resolution = run({ request: request({ parameters: { amount: 450, currency: 'USD' } }) });
    expect(resolution.phase).toBe('Approved');
    expect(resolution.decision).toEqual({
      outcome: 'Approved',
      decidedBy: 'policy:payments/small',
      reason: 'payments: below $500',
    });
    expect(resolution.evaluations).toEqual([
      { policy: 'payments', rule: 'huge', result: 'NoMatch', message: 'when is false', policyGeneration: 1 },
      { policy: 'payments', rule: 'small', result: 'Approve', message: 'below $500', policyGeneration: 1 },
    ]);
    expect(resolution.selected).toEqual(['payments']);
  });

  it('escalates a $5,000 payment and approves it once an approver agrees', () => {
    const pending = run({ request: request({ parameters: { amount: 5000, currency: 'USD' } }) });
    expect(pending.phase).toBe('Escalated');
    expect(pending.decision).toBeUndefined();
    expect(pending.waitingOn).toEqual([
      { policy: 'payments', approvals: 0, required: 1, approvers: { kubernetesGroups: ['approvers'] } },
    ]);
    expect(pending.expiresAt).toEqual(new Date('2026-11-27T11:59:00Z'));

    const alice: JudgedApproval = {
      approval: {
        approver: 'alice',
        via: 'kubernetes',
        decision: 'Approve',
        at: '2026-11-26T12:00:00Z',
        policy: 'payments',
        policyGeneration: 1,
      },
      index: 0,
      person: 'alice',
      approverOf: new Set(['payments']),
    };
    const approved = run({
      request: request({ parameters: { amount: 5000, currency: 'USD' } }),
      approvals: [alice],
    });
    expect(approved.decision).toMatchObject({ outcome: 'Approved', decidedBy: 'user:alice' });
  });

  it('says in the why-trace when a parameter had another type than what its rule compared it with', () => {
    const resolution = run({ request: request({ parameters: { amount: 450, currency: 840 } }) });
    expect(resolution.evaluations.find((e) => e.rule === 'small')?.message).toBe(
      'when is false; params.currency is a number (840), compared with a string',
    );
  });

  it('denies by rule, whatever people said', () => {
    const resolution = run({ request: request({ parameters: { amount: 250000, currency: 'USD' } }) });
    expect(resolution.decision).toMatchObject({ outcome: 'Denied', decidedBy: 'policy:payments/huge' });
  });

  it('holds a deployment until it has been green in staging for 24 hours, then approves it', () => {
    const deploy = request({ action: 'deploy', resource: 'web', parameters: { version: 'v2.4.1' } });
    const asked: string[] = [];
    const greenSince = (since: string) => (reference: { kind: string; namespace: string; name: string }) => {
      asked.push(`${reference.kind} ${reference.namespace}/${reference.name}`);
      return { metadata: { name: reference.name }, data: { greenSince: since } };
    };
    expect(run({ request: deploy }).phase).toBe('Pending');
    expect(run({ request: deploy, lookup: greenSince('2026-11-26T00:00:00Z') }).phase).toBe('Pending');
    const soaked = run({ request: deploy, lookup: greenSince('2026-11-25T11:00:00Z') });
    expect(soaked.decision).toMatchObject({
      outcome: 'Approved',
      decidedBy: 'policy:staging-soak/green-24h',
    });
    expect(asked).toContain('ConfigMap shop/web-staging');
  });

  it('holds, and says why, while a context object cannot be read', () => {
    const deploy = request({ action: 'deploy', resource: 'web', parameters: { environment: 'production' } });
    const resolution = run({ request: deploy, lookup: () => contextUnavailable('deployments is forbidden') });
    expect(resolution.phase).toBe('Pending');
    expect(resolution.evaluations).toEqual([
      {
        policy: 'staging-soak',
        result: 'Error',
        message: 'waiting for context: ConfigMap shop/web-staging: deployments is forbidden',
        policyGeneration: 1,
      },
    ]);
  });

  it('never approves when a rule fails: escalates to people when the policy has them', () => {
    const resolution = run({ request: request({ parameters: { currency: 'USD' } }) });
    expect(resolution.phase).toBe('Escalated');
    expect(resolution.evaluations).toEqual([
      {
        policy: 'payments',
        rule: 'huge',
        result: 'Error',
        message: 'rule huge failed: field not found: amount',
        policyGeneration: 1,
      },
    ]);
  });

  it('never approves when a rule fails: denies when nobody can be asked', () => {
    const strict = policy('strict', {
      rules: [{ name: 'r', when: 'params.amount < 10', decision: 'Approve' }],
    });
    const resolution = run({ request: request({}), policies: [compilePolicy(strict)] });
    expect(resolution.decision).toMatchObject({ outcome: 'Denied', decidedBy: 'policy:strict/r' });
    expect(resolution.decision?.reason).toContain('rule r failed');
  });

  it('holds while a selecting policy is invalid, and says where the error is', () => {
    const broken = policy('broken', {
      rules: [{ name: 'typo', when: 'parms.amount < 10', decision: 'Approve' }],
    });
    const resolution = run({ request: request({}), policies: [compilePolicy(broken)] });
    expect(resolution.phase).toBe('Pending');
    expect(resolution.evaluations[0]?.result).toBe('Error');
    expect(resolution.evaluations[0]?.message).toMatch(
      /spec\.rules\[0\]\.when \(line 1, column 1\): .*parms/,
    );
  });

  it('records what a DryRun policy would have done without letting it decide', () => {
    const shadow = policy('shadow', { mode: 'DryRun', rules: [{ name: 'deny-all', decision: 'Deny' }] });
    const resolution = run({
      request: request({ parameters: { amount: 450, currency: 'USD' } }),
      policies: [compilePolicy(payments), compilePolicy(shadow)],
    });
    expect(resolution.phase).toBe('Approved');
    expect(resolution.evaluations).toContainEqual({
      policy: 'shadow',
      rule: 'deny-all',
      result: 'Deny',
      message: 'rule deny-all matched',
      policyGeneration: 1,
      dryRun: true,
    });
  });

  it('expires an undecided request at its deadline, even if it could be decided now', () => {
    const late = request(
      { parameters: { amount: 5000, currency: 'USD' }, timeout: '30s' },
      '2026-11-26T11:00:00Z',
    );
    const resolution = run({ request: late });
    expect(resolution.decision).toEqual({
      outcome: 'Expired',
      decidedBy: 'timeout',
      reason: "no decision within the request's timeout of 30s",
    });
  });

  it('denies a request whose parameters are larger than 16 KiB, saying so', () => {
    const resolution = run({ request: request({ parameters: { blob: 'x'.repeat(17 * 1024) } }) });
    expect(resolution.decision).toMatchObject({ outcome: 'Denied', decidedBy: 'controller' });
    expect(resolution.reason).toContain('more than the limit of 16384 bytes');
  });

  it('denies, as the controller, a request no policy selects', () => {
    const resolution = run({ request: request({ action: 'db-migrate' }) });
    expect(resolution.decision).toEqual({
      outcome: 'Denied',
      decidedBy: 'controller',
      reason:
        'no ApprovalPolicy in Enforce mode selects this request: payments selects actions payment, not ' +
        'db-migrate; staging-soak selects actions deploy, not db-migrate',
    });
    expect(resolution.selected).toEqual([]);
  });
});
