import { describe, expect, it } from 'vitest';
import type { RuleDecision } from '../api/v1alpha1/approval-policy.ts';
import type { Approval } from '../api/v1alpha1/approval-request.ts';
import { combine, type Combined } from './combine.ts';
import { personOf } from './person.ts';
import { tally, type CountedQuestion, type Tally } from './tally.ts';
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

/**
 * One answer to the `payments` policy (generation 1 unless said otherwise); answers arrive in the
 * order the list gives them (the index), whatever `at` says.
 */
function answer(
  approver: string,
  decision: 'Approve' | 'Deny',
  at: string,
  approverOf: string[],
  extra: {
    via?: 'slack' | 'kubernetes';
    kubernetesUser?: string;
    comment?: string;
    policy?: string;
    generation?: number;
  } = {},
): Omit<JudgedApproval, 'index'> {
  const approval: Approval = {
    approver,
    via: extra.via ?? 'kubernetes',
    decision,
    at,
    policy: extra.policy ?? approverOf[0] ?? 'payments',
    policyGeneration: extra.generation ?? 1,
    ...(extra.kubernetesUser ? { kubernetesUser: extra.kubernetesUser } : {}),
    ...(extra.comment ? { comment: extra.comment } : {}),
  };
  return { approval, person: personOf(approval), approverOf: new Set(approverOf) };
}

/** Answers in arrival order. */
const arrived = (answers: Omit<JudgedApproval, 'index'>[]): JudgedApproval[] =>
  answers.map((a, index) => ({ ...a, index }));

const question = (policy: string, extra: Partial<CountedQuestion> = {}): CountedQuestion => ({
  policy,
  generation: 1,
  allowSelfApproval: false,
  requester: 'system:serviceaccount:ci:deployer',
  ...extra,
});

const noAnswers = (): Tally => ({ approvals: [], ignored: [] });
const answered =
  (answers: Omit<JudgedApproval, 'index'>[], extra: Partial<CountedQuestion> = {}) =>
  (policy: string): Tally =>
    tally(arrived(answers), question(policy, extra));

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
    const both = [
      ...first,
      answer('U0BOB', 'Approve', '2026-11-26T10:05:00Z', ['payments'], {
        via: 'slack',
        kubernetesUser: 'bob',
      }),
    ];
    expect(combine(verdicts, answered(both))).toEqual({
      kind: 'Decided',
      outcome: 'Approved',
      decidedBy: 'slack:U0BOB',
      reason: 'approved by alice, U0BOB (bob)',
      waitingOn: [{ policy: 'payments', approvals: 2, required: 2, approvers: undefined }],
    });
  });

  it('counts a person once, whether they answer with kubectl, in Slack, or both', () => {
    const verdicts = [verdict('payments', 'Escalate', { required: 2 })];
    const twice = [
      answer('alice', 'Approve', '2026-11-26T10:00:00Z', ['payments']),
      answer('U0ALICE', 'Approve', '2026-11-26T10:01:00Z', ['payments'], {
        via: 'slack',
        kubernetesUser: 'Alice',
      }),
    ];
    expect(combine(verdicts, answered(twice))).toMatchObject({
      kind: 'Escalated',
      waitingOn: [{ policy: 'payments', approvals: 1, required: 2 }],
    });
  });

  it('credits the answer that arrived last, whatever time its author wrote on it', () => {
    const verdicts = [verdict('payments', 'Escalate', { required: 2 })];
    const answers = [
      answer('alice', 'Approve', '2099-01-01T00:00:00Z', ['payments']),
      answer('bob', 'Approve', '2000-01-01T00:00:00Z', ['payments']),
    ];
    expect(combine(verdicts, answered(answers))).toMatchObject({
      outcome: 'Approved',
      decidedBy: 'user:bob',
    });
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
      waitingOn: [{ policy: 'payments', approvals: 1, required: 2, approvers: undefined }],
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
  it('ignores outsiders and the requester, and says why', () => {
    const result = tally(
      arrived([
        answer('carol', 'Approve', '2026-11-26T10:00:00Z', [], { policy: 'payments' }),
        answer('dave', 'Approve', '2026-11-26T10:01:00Z', ['payments']),
        answer('alice', 'Approve', '2026-11-26T10:02:00Z', ['payments']),
      ]),
      question('payments', { requester: 'dave' }),
    );
    expect(result.approvals.map((a) => a.approval.approver)).toEqual(['alice']);
    expect(result.ignored.map((i) => [i.approval.approver, i.why])).toEqual([
      ['carol', 'not an approver of policy payments'],
      ['dave', 'the requester cannot approve their own request'],
    ]);
  });

  it('knows the requester in Slack too, whatever the case of their username', () => {
    const result = tally(
      arrived([
        answer('U0DAVE', 'Approve', '2026-11-26T10:01:00Z', ['payments'], {
          via: 'slack',
          kubernetesUser: 'Dave@Example.com',
        }),
      ]),
      question('payments', { requester: 'dave@example.com' }),
    );
    expect(result.approvals).toEqual([]);
    expect(result.ignored.map((i) => i.why)).toEqual(['the requester cannot approve their own request']);
  });

  it('counts the requester when the policy allows self-approval', () => {
    const result = tally(
      arrived([answer('dave', 'Approve', '2026-11-26T10:01:00Z', ['payments'])]),
      question('payments', { requester: 'dave', allowSelfApproval: true }),
    );
    expect(result.approvals.map((a) => a.approval.approver)).toEqual(['dave']);
  });

  it('never counts a Slack answer that is not linked to a Kubernetes user', () => {
    const result = tally(
      arrived([answer('U0ALICE', 'Approve', '2026-11-26T10:01:00Z', ['payments'], { via: 'slack' })]),
      question('payments'),
    );
    expect(result.approvals).toEqual([]);
    expect(result.ignored[0]?.why).toContain('Slack user U0ALICE is not linked to a Kubernetes user');
  });

  it("keeps each person's first answer: an answer is final", () => {
    const result = tally(
      arrived([
        answer('alice', 'Deny', '2026-11-26T10:00:00Z', ['payments']),
        answer('alice', 'Approve', '2026-11-26T10:03:00Z', ['payments']),
      ]),
      question('payments'),
    );
    expect(result.denial?.approval.decision).toBe('Deny');
    expect(result.approvals).toEqual([]);
    expect(result.ignored.map((i) => i.why)).toEqual(['alice already answered for policy payments']);
  });

  it('counts only answers to this policy at its current generation', () => {
    const result = tally(
      arrived([
        answer('alice', 'Approve', '2026-11-26T10:00:00Z', ['payments'], { generation: 1 }),
        answer('bob', 'Approve', '2026-11-26T10:01:00Z', ['security'], { policy: 'security' }),
        answer('carol', 'Approve', '2026-11-26T10:02:00Z', ['payments'], { generation: 2 }),
      ]),
      question('payments', { generation: 2 }),
    );
    expect(result.approvals.map((a) => a.approval.approver)).toEqual(['carol']);
    expect(result.ignored.map((i) => [i.approval.approver, i.why])).toEqual([
      [
        'alice',
        'given to generation 1 of policy payments, which has changed since (generation 2): answer again',
      ],
    ]);
  });
});
