import { describe, expect, it } from 'vitest';
import type { RuleDecision } from '../api/v1alpha1/approval-policy.ts';
import type { Approval } from '../api/v1alpha1/approval-request.ts';
import { combine, type Combined } from './combine.ts';
import { tally, type Tally } from './tally.ts';
import type { JudgedApproval, PolicyVerdict } from './verdict.ts';

function verdict(
  policy: string,
  decision: RuleDecision,
  options: { mode?: 'Enforce' | 'DryRun'; rule?: string; required?: number } = {},
): PolicyVerdict {
  return {
    policy,
    mode: options.mode ?? 'Enforce',
    decision,
    ...(options.rule === undefined ? {} : { rule: options.rule }),
    message: `${policy} says ${decision}`,
    requiredApprovals: options.required ?? 1,
    trace: [],
  };
}

function answer(
  approver: string,
  decision: 'Approve' | 'Deny',
  at: string,
  approverOf: string[],
  extra: { isRequester?: boolean; via?: 'slack' | 'kubernetes'; comment?: string } = {},
): JudgedApproval {
  const approval: Approval = {
    approver,
    via: extra.via ?? 'kubernetes',
    decision,
    at,
    ...(extra.comment ? { comment: extra.comment } : {}),
  };
  return {
    approval,
    identity: approver,
    approverOf: new Set(approverOf),
    isRequester: extra.isRequester ?? false,
  };
}

const noAnswers = (): Tally => ({ approvals: [], ignored: [] });
const answered =
  (answers: JudgedApproval[], allowSelfApproval = false) =>
  (policy: string): Tally =>
    tally(answers, { name: policy, allowSelfApproval });

describe('combine', () => {
  it.each<[string, PolicyVerdict[], Partial<Combined>]>([
    [
      'no policy at all: denied by the controller',
      [],
      { kind: 'Decided', outcome: 'Denied', decidedBy: 'controller' },
    ],
    [
      'only DryRun policies: denied by the controller, a dry run never decides',
      [verdict('shadow', 'Approve', { mode: 'DryRun' })],
      { kind: 'Decided', outcome: 'Denied', decidedBy: 'controller' },
    ],
    [
      'a single Approve',
      [verdict('payments', 'Approve', { rule: 'small' })],
      { kind: 'Decided', outcome: 'Approved', decidedBy: 'policy:payments/small' },
    ],
    [
      'all Approve: the first policy by name is credited',
      [verdict('zeta', 'Approve', { rule: 'z' }), verdict('alpha', 'Approve', { rule: 'a' })],
      { kind: 'Decided', outcome: 'Approved', decidedBy: 'policy:alpha/a' },
    ],
    [
      'an Approve by the default decision',
      [verdict('payments', 'Approve')],
      { kind: 'Decided', outcome: 'Approved', decidedBy: 'policy:payments/default' },
    ],
    [
      'any Deny wins over Approve',
      [verdict('a', 'Approve', { rule: 'ok' }), verdict('b', 'Deny', { rule: 'no' })],
      { kind: 'Decided', outcome: 'Denied', decidedBy: 'policy:b/no', reason: 'b says Deny' },
    ],
    [
      'any Deny wins over Escalate and Hold',
      [verdict('a', 'Escalate'), verdict('b', 'Hold'), verdict('c', 'Deny', { rule: 'no' })],
      { kind: 'Decided', outcome: 'Denied', decidedBy: 'policy:c/no' },
    ],
    [
      'a DryRun Deny changes nothing',
      [verdict('a', 'Approve', { rule: 'ok' }), verdict('b', 'Deny', { mode: 'DryRun' })],
      { kind: 'Decided', outcome: 'Approved', decidedBy: 'policy:a/ok' },
    ],
    [
      'Escalate wins over Hold and Approve',
      [verdict('a', 'Approve'), verdict('b', 'Hold'), verdict('c', 'Escalate', { required: 2 })],
      { kind: 'Escalated', waitingOn: [{ policy: 'c', approvals: 0, required: 2 }] },
    ],
    [
      'Hold wins over Approve: stays Pending',
      [verdict('a', 'Approve'), verdict('b', 'Hold')],
      { kind: 'Pending', reason: 'held by policy b: b says Hold' },
    ],
  ])('%s', (_case, verdicts, expected) => {
    expect(combine(verdicts, noAnswers)).toMatchObject(expected);
  });

  it('approves an escalation once the required approvals arrive, credited to the approver who completed it', () => {
    const verdicts = [verdict('payments', 'Escalate', { required: 2 })];
    const first = [answer('alice', 'Approve', '2026-11-26T10:00:00Z', ['payments'])];
    expect(combine(verdicts, answered(first))).toMatchObject({
      kind: 'Escalated',
      waitingOn: [{ policy: 'payments', approvals: 1, required: 2 }],
    });
    const both = [...first, answer('bob', 'Approve', '2026-11-26T10:05:00Z', ['payments'], { via: 'slack' })];
    expect(combine(verdicts, answered(both))).toEqual({
      kind: 'Decided',
      outcome: 'Approved',
      decidedBy: 'slack:bob',
      reason: 'approved by alice, bob',
    });
  });

  it('counts a person once, whatever they click twice', () => {
    const verdicts = [verdict('payments', 'Escalate', { required: 2 })];
    const twice = [
      answer('alice', 'Approve', '2026-11-26T10:00:00Z', ['payments']),
      answer('alice', 'Approve', '2026-11-26T10:01:00Z', ['payments'], { via: 'slack' }),
    ];
    expect(combine(verdicts, answered(twice))).toMatchObject({ kind: 'Escalated' });
  });

  it('denies when any approver of an escalating policy denies, with their comment', () => {
    const verdicts = [verdict('payments', 'Escalate', { required: 2 })];
    const answers = [
      answer('alice', 'Approve', '2026-11-26T10:00:00Z', ['payments']),
      answer('bob', 'Deny', '2026-11-26T10:01:00Z', ['payments'], { comment: 'wrong vendor' }),
    ];
    expect(combine(verdicts, answered(answers))).toEqual({
      kind: 'Decided',
      outcome: 'Denied',
      decidedBy: 'user:bob',
      reason: 'denied by bob: wrong vendor',
    });
  });

  it('needs every escalating policy satisfied by its own approvers', () => {
    const verdicts = [verdict('finance', 'Escalate'), verdict('security', 'Escalate')];
    const financeOnly = [answer('alice', 'Approve', '2026-11-26T10:00:00Z', ['finance'])];
    expect(combine(verdicts, answered(financeOnly))).toMatchObject({
      kind: 'Escalated',
      waitingOn: [
        { policy: 'finance', approvals: 1, required: 1 },
        { policy: 'security', approvals: 0, required: 1 },
      ],
    });
    const both = [...financeOnly, answer('bob', 'Approve', '2026-11-26T10:02:00Z', ['security'])];
    expect(combine(verdicts, answered(both))).toMatchObject({ outcome: 'Approved', decidedBy: 'user:bob' });
  });

  it('ignores a Deny from someone who is not an approver', () => {
    const verdicts = [verdict('payments', 'Escalate')];
    const answers = [answer('carol', 'Deny', '2026-11-26T10:00:00Z', [])];
    expect(combine(verdicts, answered(answers))).toMatchObject({ kind: 'Escalated' });
  });
});

describe('tally', () => {
  const policy = { name: 'payments', allowSelfApproval: false };

  it('ignores outsiders and the requester, and says why', () => {
    const result = tally(
      [
        answer('carol', 'Approve', '2026-11-26T10:00:00Z', ['other']),
        answer('dave', 'Approve', '2026-11-26T10:01:00Z', ['payments'], { isRequester: true }),
        answer('alice', 'Approve', '2026-11-26T10:02:00Z', ['payments']),
      ],
      policy,
    );
    expect(result.approvals.map((a) => a.approver)).toEqual(['alice']);
    expect(result.ignored.map((i) => [i.approval.approver, i.why])).toEqual([
      ['carol', 'not an approver of policy payments'],
      ['dave', 'the requester cannot approve their own request'],
    ]);
  });

  it('counts the requester when the policy allows self-approval', () => {
    const result = tally(
      [answer('dave', 'Approve', '2026-11-26T10:01:00Z', ['payments'], { isRequester: true })],
      { ...policy, allowSelfApproval: true },
    );
    expect(result.approvals.map((a) => a.approver)).toEqual(['dave']);
  });

  it("keeps each person's latest answer", () => {
    const result = tally(
      [
        answer('alice', 'Deny', '2026-11-26T10:00:00Z', ['payments']),
        answer('alice', 'Approve', '2026-11-26T10:03:00Z', ['payments']),
      ],
      policy,
    );
    expect(result.denial).toBeUndefined();
    expect(result.approvals.map((a) => a.at)).toEqual(['2026-11-26T10:03:00Z']);
  });
});
