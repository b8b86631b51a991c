import { describe, expect, it } from 'vitest';
import type { ApprovalPolicy, ApprovalPolicySpec } from '../api/v1alpha1/approval-policy.ts';
import type { Approval, ApprovalRequest, ApprovalRequestStatus } from '../api/v1alpha1/approval-request.ts';
import { planSlack } from './plan.ts';

const policy = (name: string, spec: ApprovalPolicySpec): ApprovalPolicy => ({
  apiVersion: 'greenlight.dev/v1alpha1',
  kind: 'ApprovalPolicy',
  metadata: { name, namespace: 'finance' },
  spec,
});
const payments = policy('payments', {
  escalation: { slack: { channel: '#payments-approvals' }, approvers: { kubernetesGroups: ['approvers'] } },
  notify: { slack: { channel: '#workflow-updates' }, on: ['Approved', 'Escalated'] },
});
const audit = policy('audit', { mode: 'DryRun', notify: { slack: { channel: '#audit' } } });
const policies = (name: string) => ({ payments, audit })[name];

const request = (status: ApprovalRequestStatus): ApprovalRequest => ({
  apiVersion: 'greenlight.dev/v1alpha1',
  kind: 'ApprovalRequest',
  metadata: { name: 'inv-43', namespace: 'finance', uid: 'u1' },
  spec: { action: 'payment', requester: 'ci' },
  status,
});
const escalate = { policy: 'payments', result: 'Escalate', message: 'default', policyGeneration: 1 } as const;
const answer = (entry: Pick<Approval, 'approver' | 'via' | 'at'> & Partial<Approval>): Approval => ({
  decision: 'Approve',
  policy: 'payments',
  policyGeneration: 1,
  ...entry,
});

describe('planSlack', () => {
  it('plans nothing for a pending request', () => {
    expect(planSlack(request({ phase: 'Pending', evaluations: [] }), policies)).toEqual([]);
  });

  it('tracks an escalated request in the escalation channel and announces Escalated', () => {
    expect(planSlack(request({ phase: 'Escalated', evaluations: [escalate] }), policies)).toEqual([
      { kind: 'tracking', key: 'u1/tracking', channel: '#payments-approvals', uid: 'u1' },
      {
        kind: 'announcement',
        key: 'u1/announce/Escalated/#workflow-updates',
        channel: '#workflow-updates',
        uid: 'u1',
        outcome: 'Escalated',
      },
    ]);
  });

  it('replies in the thread for each answer and keeps the tracking message, in its recorded channel, once decided', () => {
    const approved = request({
      phase: 'Approved',
      evaluations: [escalate],
      slack: { channel: 'C0PAYMENTS', ts: '1.1' },
      observedApprovals: 2,
      approvals: [
        answer({ approver: 'U0ALICE', via: 'slack', kubernetesUser: 'alice', at: '2026-11-26T10:00:00Z' }),
        answer({ approver: 'bob', via: 'kubernetes', at: '2026-11-26T10:01:00Z' }),
      ],
      decision: {
        outcome: 'Approved',
        decidedBy: 'user:bob',
        reason: 'ok',
        decidedAt: '2026-11-26T10:01:00Z',
      },
    });
    expect(planSlack(approved, policies).map((intent) => [intent.kind, intent.key, intent.channel])).toEqual([
      ['tracking', 'u1/tracking', 'C0PAYMENTS'],
      ['progress', 'u1/answer/0', 'C0PAYMENTS'],
      ['progress', 'u1/answer/1', 'C0PAYMENTS'],
      // One message per request per channel: the Escalated announcement now says Approved.
      ['announcement-update', 'u1/announce/Escalated/#workflow-updates/decided', '#workflow-updates'],
    ]);
  });

  it('updates a tracking message a predecessor posted but never recorded, and never posts one for a decided request', () => {
    const deniedByAlice: ApprovalRequestStatus = {
      phase: 'Denied',
      evaluations: [escalate],
      observedApprovals: 1,
      approvals: [
        answer({ approver: 'U0ALICE', via: 'slack', decision: 'Deny', at: '2026-11-26T10:00:00Z' }),
      ],
    };
    const tracking = planSlack(request(deniedByAlice), policies).filter(
      (intent) => intent.kind === 'tracking' || intent.kind === 'progress',
    );
    expect(tracking).toEqual([
      { kind: 'tracking', key: 'u1/tracking', channel: '#payments-approvals', uid: 'u1', ifPosted: true },
    ]);
    // Decided by a policy at once: nothing was ever posted to track.
    const byPolicy = planSlack(
      request({ phase: 'Denied', evaluations: [{ ...escalate, result: 'Deny' }] }),
      policies,
    );
    expect(byPolicy.filter((intent) => intent.kind === 'tracking')).toEqual([]);
  });

  it('replies once for an answer that answers several policies', () => {
    const answered = request({
      phase: 'Escalated',
      evaluations: [escalate, { ...escalate, policy: 'security' }],
      slack: { channel: 'C0PAYMENTS', ts: '1.1' },
      observedApprovals: 3,
      approvals: [
        answer({ approver: 'alice', via: 'kubernetes', at: '2026-11-26T10:00:00Z' }),
        answer({ approver: 'alice', via: 'kubernetes', at: '2026-11-26T10:00:00Z', policy: 'security' }),
        answer({ approver: 'bob', via: 'kubernetes', at: '2026-11-26T10:01:00Z' }),
      ],
    });
    const replies = planSlack(answered, policies).filter((intent) => intent.kind === 'progress');
    expect(replies.map((intent) => intent.key)).toEqual(['u1/answer/0', 'u1/answer/2']);
  });

  it('replies only for the answers the controller has counted', () => {
    const answered = request({
      phase: 'Escalated',
      evaluations: [escalate],
      slack: { channel: 'C0PAYMENTS', ts: '1.1' },
      approvals: [
        answer({ approver: 'U0ALICE', via: 'slack', kubernetesUser: 'alice', at: '2026-11-26T10:00:00Z' }),
      ],
    });
    expect(planSlack(answered, policies).filter((intent) => intent.kind === 'progress')).toEqual([]);
    const counted = { ...answered, status: { ...answered.status, observedApprovals: 1 } };
    expect(planSlack(counted, policies).filter((intent) => intent.kind === 'progress')).toHaveLength(1);
  });

  it('announces only the outcomes a policy asks for, and never for a DryRun policy', () => {
    const denied = request({
      phase: 'Denied',
      evaluations: [
        { policy: 'payments', result: 'Deny', message: 'no' },
        { policy: 'audit', result: 'Deny', message: 'no', dryRun: true },
      ],
      decision: {
        outcome: 'Denied',
        decidedBy: 'policy:payments/r',
        reason: 'no',
        decidedAt: '2026-11-26T10:00:00Z',
      },
    });
    // Denied by a rule, never escalated: no Escalated announcement to update, and Denied is not asked for.
    expect(planSlack(denied, policies)).toEqual([]);
    const auto = request({
      phase: 'Approved',
      evaluations: [{ policy: 'payments', result: 'Approve', message: 'small' }],
      decision: {
        outcome: 'Approved',
        decidedBy: 'policy:payments/r',
        reason: 'small',
        decidedAt: '2026-11-26T10:00:00Z',
      },
    });
    expect(planSlack(auto, policies).map((intent) => intent.key)).toEqual([
      'u1/announce/Approved/#workflow-updates',
    ]);
  });
});

describe('planSlack for a request made from a Slack message', () => {
  const slackBorn = (
    status: ApprovalRequestStatus,
    annotations: Record<string, string> = {},
  ): ApprovalRequest => ({
    ...request(status),
    metadata: {
      ...request(status).metadata,
      annotations: {
        'greenlight.dev/slack-channel': 'C0PAYREQ',
        'greenlight.dev/slack-ts': '1700000000.000100',
        ...annotations,
      },
    },
    spec: { action: 'payment', requester: 'slack:B0PAYBOT' },
  });

  it('shows the state on the asking message and answers in its thread, beside the escalation', () => {
    const intents = planSlack(slackBorn({ phase: 'Escalated', evaluations: [escalate] }), policies);
    expect(intents.slice(0, 2)).toEqual([
      {
        kind: 'reaction',
        key: 'u1/reaction/Escalated',
        channel: 'C0PAYREQ',
        uid: 'u1',
        ts: '1700000000.000100',
        add: 'raising_hand',
        remove: ['eyes'],
      },
      {
        kind: 'intake-reply',
        key: 'u1/intake/Escalated',
        channel: 'C0PAYREQ',
        uid: 'u1',
        threadTs: '1700000000.000100',
        stage: 'Escalated',
      },
    ]);
    expect(intents.map((intent) => intent.kind)).toContain('tracking');
  });

  it('answers a decision in the thread the message was asked in, even when too old to announce', () => {
    const decided = slackBorn(
      {
        phase: 'Denied',
        evaluations: [escalate],
        decision: {
          outcome: 'Denied',
          decidedBy: 'user:bob',
          reason: 'no',
          decidedAt: '2026-11-26T10:00:00Z',
        },
      },
      { 'greenlight.dev/slack-thread-ts': '1699999999.000001' },
    );
    expect(planSlack(decided, policies, { announce: false })).toEqual([
      expect.objectContaining({ kind: 'reaction', add: 'x', remove: ['eyes', 'raising_hand'] }),
      expect.objectContaining({
        kind: 'intake-reply',
        key: 'u1/intake/Decided',
        threadTs: '1699999999.000001',
      }),
    ]);
  });

  it('plans nothing in Slack threads for a request whose requester is not slack:', () => {
    const notFromSlack = { ...slackBorn({ phase: 'Pending' }), spec: { action: 'payment', requester: 'ci' } };
    expect(planSlack(notFromSlack, policies)).toEqual([]);
  });
});
