import { describe, expect, it } from 'vitest';
import type {
  Approval,
  ApprovalRequest,
  ApprovalRequestStatus,
} from '../src/api/v1alpha1/approval-request.ts';
import { GreenlightApi } from '../src/k8s/greenlight-api.ts';
import { refusal } from './support/api-error.ts';
import { cluster, createTestNamespace, kubeConfigAs } from './support/cluster.ts';
import { eventually } from './support/eventually.ts';
import { APPROVER_RULES, grant, REQUESTER_RULES } from './support/rbac.ts';

// Greenlight's ValidatingAdmissionPolicies (config/admission-policies.yaml, applied by the global
// setup) make the API server refuse a request on someone else's behalf, and any status change by a
// person other than adding one approval entry that names themselves.

const asAdmin = new GreenlightApi(kubeConfigAs('admin'));
const asCi = new GreenlightApi(kubeConfigAs('ci'));
const asAlice = new GreenlightApi(kubeConfigAs('alice'));

const escalated: ApprovalRequestStatus = {
  phase: 'Escalated',
  evaluations: [
    { policy: 'payments', result: 'Escalate', message: 'no rule matched; default decision Escalate' },
  ],
};

const approval = (approver: string, extra: Partial<Approval> = {}): Approval => ({
  approver,
  via: 'kubernetes',
  decision: 'Approve',
  at: '2026-11-26T12:00:00Z',
  ...extra,
});

/** A namespace where ci may ask and the approvers group may answer, with one escalated request. */
async function escalatedRequest(prefix: string): Promise<ApprovalRequest> {
  const namespace = await createTestNamespace(prefix);
  await grant(namespace, { user: cluster().usernames.ci }, REQUESTER_RULES);
  await grant(namespace, { group: 'approvers' }, APPROVER_RULES);
  const created = await eventually(() =>
    asCi.createRequest(namespace, 'pay', {
      action: 'payment',
      requester: cluster().usernames.ci,
      parameters: { amount: 5000 },
    }),
  );
  // The controller's part, played by the admin (allowed the controller's `decide` verb).
  return asAdmin.replaceRequestStatus(created, escalated);
}

describe('admission: the requester is the caller', () => {
  it('lets the CI service account ask in its own name and refuses it in anyone else’s', async () => {
    const namespace = await createTestNamespace('admission-requester');
    await grant(namespace, { user: cluster().usernames.ci }, REQUESTER_RULES);
    const own = await eventually(() =>
      asCi.createRequest(namespace, 'own', { action: 'deploy', requester: cluster().usernames.ci }),
    );
    expect(own.spec.requester).toBe('system:serviceaccount:ci:deployer');

    const spoofed = await refusal(
      asCi.createRequest(namespace, 'spoofed', { action: 'deploy', requester: 'alice' }),
    );
    expect(spoofed.code).toBe(403);
    expect(spoofed.message).toContain(
      'spec.requester must be the user creating the request (system:serviceaccount:ci:deployer), not alice',
    );
  });

  it('holds for administrators too', async () => {
    const namespace = await createTestNamespace('admission-requester-admin');
    const refused = await refusal(
      asAdmin.createRequest(namespace, 'x', { action: 'deploy', requester: 'bob' }),
    );
    expect(refused.code).toBe(403);
  });
});

describe('admission: people may only add one approval naming themselves', () => {
  it('accepts alice adding her own approval, with her authenticated groups', async () => {
    const request = await escalatedRequest('admission-approve');
    const approved = await eventually(() =>
      asAlice.addApproval(request, approval('alice', { groups: ['approvers', 'system:authenticated'] })),
    );
    expect(approved.status?.approvals).toEqual([
      approval('alice', { groups: ['approvers', 'system:authenticated'] }),
    ]);
    expect(approved.status?.phase).toBe('Escalated');
  });

  it.each<[string, (request: ApprovalRequest) => Promise<unknown>, string]>([
    [
      'an approval in someone else’s name',
      (request) => asAlice.addApproval(request, approval('bob')),
      'the new entry must name the caller (alice) with via: kubernetes',
    ],
    [
      'an approval pretending to come from Slack',
      (request) => asAlice.addApproval(request, approval('alice', { via: 'slack' })),
      'the new entry must name the caller (alice) with via: kubernetes',
    ],
    [
      'groups the caller does not have',
      (request) => asAlice.addApproval(request, approval('alice', { groups: ['system:masters'] })),
      "status.approvals[].groups must be the caller's groups",
    ],
    [
      'deciding the request herself',
      (request) =>
        asAlice.replaceRequestStatus(request, {
          ...escalated,
          phase: 'Approved',
          decision: {
            outcome: 'Approved',
            decidedBy: 'user:alice',
            reason: 'me',
            decidedAt: '2026-11-26T12:00:00Z',
          },
        }),
      'status.phase is written by Greenlight only',
    ],
    [
      'rewriting the why-trace',
      (request) => asAlice.replaceRequestStatus(request, { ...escalated, evaluations: [] }),
      'status.evaluations is written by Greenlight only',
    ],
    [
      'two entries at once',
      (request) =>
        asAlice.replaceRequestStatus(request, {
          ...escalated,
          approvals: [approval('alice'), approval('alice')],
        }),
      'add exactly one entry to status.approvals',
    ],
  ])('refuses %s', async (_case, write, message) => {
    const request = await escalatedRequest('admission-refuse');
    const refused = await refusal(write(request));
    expect(refused.code).toBe(403);
    expect(refused.message).toContain(message);
  });

  it('refuses to remove what someone else said', async () => {
    const request = await escalatedRequest('admission-remove');
    const withBob = await asAdmin.replaceRequestStatus(request, {
      ...escalated,
      approvals: [approval('bob')],
    });
    const refused = await eventually(async () => {
      const attempt = await refusal(
        asAlice.replaceRequestStatus(withBob, { ...escalated, approvals: [approval('alice')] }),
      );
      expect(attempt.code).toBe(403);
      return attempt;
    });
    expect(refused.message).toContain('add exactly one entry to status.approvals and keep the existing ones');
  });

  it('refuses approvals once the request is decided', async () => {
    const request = await escalatedRequest('admission-decided');
    const denied = await asAdmin.replaceRequestStatus(request, {
      ...escalated,
      phase: 'Denied',
      decision: {
        outcome: 'Denied',
        decidedBy: 'timeout',
        reason: 'late',
        decidedAt: '2026-11-26T12:00:00Z',
      },
    });
    const refused = await eventually(async () => {
      const attempt = await refusal(asAlice.addApproval(denied, approval('alice')));
      expect(attempt.code).toBe(403);
      return attempt;
    });
    expect(refused.message).toContain('only undecided requests take approvals');
  });

  it('lets the controller write any status', async () => {
    const request = await escalatedRequest('admission-controller');
    const decided = await asAdmin.replaceRequestStatus(request, {
      ...escalated,
      approvals: [approval('bob')],
      phase: 'Approved',
      decision: {
        outcome: 'Approved',
        decidedBy: 'user:bob',
        reason: 'ok',
        decidedAt: '2026-11-26T12:00:00Z',
      },
    });
    expect(decided.status?.phase).toBe('Approved');
  });
});
