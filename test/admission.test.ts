import { describe, expect, it } from 'vitest';
import type {
  Approval,
  ApprovalRequest,
  ApprovalRequestStatus,
} from '../src/api/v1alpha1/approval-request.ts';
import { GreenlightApi } from '../src/k8s/greenlight-api.ts';
import { refusal } from './support/api-error.ts';
import { greenlightAs } from './support/greenlight-objects.ts';
import { cluster, createTestNamespace, kubeConfigAs } from './support/cluster.ts';
import { eventually } from './support/eventually.ts';
import { servesMutatingAdmissionPolicies } from '../src/local-cluster/kubectl.ts';
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
    {
      policy: 'payments',
      result: 'Escalate',
      message: 'no rule matched; default decision Escalate',
      policyGeneration: 1,
    },
  ],
};

const approval = (approver: string, extra: Partial<Approval> = {}): Approval => ({
  approver,
  via: 'kubernetes',
  decision: 'Approve',
  at: '2026-11-26T12:00:00Z',
  policy: 'payments',
  policyGeneration: 1,
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

  it('fills an omitted requester with the caller on Kubernetes 1.36+, and asks for it before', async () => {
    const namespace = await createTestNamespace('admission-requester-default');
    await grant(namespace, { user: cluster().usernames.ci }, REQUESTER_RULES);
    const fromGit = { action: 'deploy', resource: 'web' };
    if (await servesMutatingAdmissionPolicies(cluster().kubectl, cluster().kubeconfigs.admin)) {
      const created = await eventually(() => asCi.createRequest(namespace, 'from-git', fromGit));
      expect(created.spec.requester).toBe(cluster().usernames.ci);
    } else {
      const refused = await eventually(async () => {
        const attempt = await refusal(asCi.createRequest(namespace, 'from-git', fromGit));
        expect(attempt.code).toBe(422);
        return attempt;
      });
      expect(refused.message).toContain(
        'spec.requester is required: set it to the user creating the request (system:serviceaccount:ci:deployer)',
      );
    }
    // Either way, naming someone else is refused.
    const spoofed = await refusal(
      asCi.createRequest(namespace, 'spoofed', { ...fromGit, requester: 'alice' }),
    );
    expect(spoofed.code).toBe(403);
  });

  it('holds for administrators too', async () => {
    const namespace = await createTestNamespace('admission-requester-admin');
    const refused = await refusal(
      asAdmin.createRequest(namespace, 'x', { action: 'deploy', requester: 'bob' }),
    );
    expect(refused.code).toBe(403);
  });
});

describe('admission: requests made from Slack messages are the controller’s to make', () => {
  const fromSlack = {
    labels: { 'greenlight.dev/intake': 'payments' },
    annotations: {
      'greenlight.dev/slack-channel': 'C0PAYREQ',
      'greenlight.dev/slack-ts': '1700000000.000100',
      'greenlight.dev/slack-user': 'U0PAYBOT',
    },
  };

  it('refuses a slack: requester from anyone but the controller, and says how to ask instead', async () => {
    const namespace = await createTestNamespace('admission-slack-requester');
    await grant(namespace, { user: cluster().usernames.ci }, REQUESTER_RULES);
    const refused = await eventually(() =>
      refusal(asCi.createRequest(namespace, 'x', { action: 'payment', requester: 'slack:B0PAYBOT' })),
    );
    expect(refused.code).toBe(403);
    expect(refused.message).toContain(
      'spec.requester slack:B0PAYBOT names a Slack sender: only Greenlight creates such requests',
    );
    expect(refused.message).toContain('ask in your own name (system:serviceaccount:ci:deployer)');
  });

  it('lets the controller (allowed the verb decide) create one, with where it came from', async () => {
    const namespace = await createTestNamespace('admission-slack-controller');
    const created = await asAdmin.createRequest(
      namespace,
      'slack-c0payreq-1700000000-000100',
      { action: 'payment', requester: 'slack:B0PAYBOT' },
      fromSlack,
    );
    expect(created.spec.requester).toBe('slack:B0PAYBOT');
    expect(created.metadata.annotations).toEqual(fromSlack.annotations);
  });

  it('refuses anyone else marking a request as coming from Slack, or changing where it came from', async () => {
    const namespace = await createTestNamespace('admission-slack-origin');
    await grant(namespace, { user: cluster().usernames.ci }, [
      { apiGroups: ['greenlight.dev'], resources: ['approvalrequests'], verbs: ['create', 'get', 'update'] },
    ]);
    const marked = await eventually(() =>
      refusal(
        asCi.createRequest(
          namespace,
          'own',
          { action: 'payment', requester: cluster().usernames.ci },
          { annotations: { 'greenlight.dev/slack-ts': '1700000000.000100' } },
        ),
      ),
    );
    expect(marked.code).toBe(403);
    expect(marked.message).toContain(
      "metadata.annotations[greenlight.dev/slack-ts] is set by Greenlight's Slack intake only",
    );
    const labelled = await refusal(
      asCi.createRequest(
        namespace,
        'own',
        { action: 'payment', requester: cluster().usernames.ci },
        { labels: { 'greenlight.dev/intake': 'payments' } },
      ),
    );
    expect(labelled.message).toContain('metadata.labels[greenlight.dev/intake]');

    const made = await asAdmin.createRequest(
      namespace,
      'from-slack',
      { action: 'payment', requester: 'slack:B0PAYBOT' },
      fromSlack,
    );
    const ci = greenlightAs('ci');
    const redirected = await refusal(
      ci.replaceRequest({
        ...made,
        metadata: {
          ...made.metadata,
          annotations: { ...fromSlack.annotations, 'greenlight.dev/slack-channel': 'C0GENERAL' },
        },
      }),
    );
    expect(redirected.message).toContain('metadata.annotations[greenlight.dev/slack-channel]');
    const hidden = await refusal(
      ci.replaceRequest({ ...made, metadata: { ...made.metadata, annotations: {} } }),
    );
    expect(hidden.message).toContain('nobody else may set, change or remove it');
    // Other metadata stays theirs to change.
    const noted = await ci.replaceRequest({
      ...made,
      metadata: { ...made.metadata, labels: { ...fromSlack.labels, team: 'finance' } },
    });
    expect(noted.metadata.labels).toEqual({ ...fromSlack.labels, team: 'finance' });
  });
});

describe('admission: people may only add their own answers to what was asked of them', () => {
  it('accepts alice adding her own approval, with her authenticated groups', async () => {
    const request = await escalatedRequest('admission-approve');
    const approved = await eventually(() =>
      asAlice.addApprovals(request, [approval('alice', { groups: ['approvers', 'system:authenticated'] })]),
    );
    expect(approved.status?.approvals).toEqual([
      approval('alice', { groups: ['approvers', 'system:authenticated'] }),
    ]);
    expect(approved.status?.phase).toBe('Escalated');
  });

  it.each<[string, (request: ApprovalRequest) => Promise<unknown>, number, string]>([
    [
      'an approval in someone else’s name',
      (request) => asAlice.addApprovals(request, [approval('bob')]),
      403,
      'a new entry must name the caller (alice) with via: kubernetes',
    ],
    [
      'an approval pretending to come from Slack',
      (request) => asAlice.addApprovals(request, [approval('alice', { via: 'slack' })]),
      403,
      'a new entry must name the caller (alice) with via: kubernetes',
    ],
    [
      'groups the caller does not have',
      (request) => asAlice.addApprovals(request, [approval('alice', { groups: ['system:masters'] })]),
      403,
      "status.approvals[].groups must be the caller's groups",
    ],
    [
      'an answer to a policy that did not escalate the request',
      (request) => asAlice.addApprovals(request, [approval('alice', { policy: 'other' })]),
      403,
      'a new entry must answer a policy that escalated this request',
    ],
    [
      'an answer to another generation of the policy than the one that asked',
      (request) => asAlice.addApprovals(request, [approval('alice', { policyGeneration: 2 })]),
      403,
      'with the policyGeneration status.evaluations shows for it',
    ],
    [
      'two answers by one person to one policy (filling the list)',
      (request) =>
        asAlice.addApprovals(request, [approval('alice'), approval('alice', { decision: 'Deny' })]),
      422,
      'a person answers each policy once',
    ],
    [
      'a Slack identity on an answer via kubernetes',
      (request) => asAlice.addApprovals(request, [approval('alice', { kubernetesUser: 'bob' })]),
      422,
      'kubernetesUser is for answers via slack',
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
      403,
      'status.phase is written by Greenlight only',
    ],
    [
      'rewriting the why-trace',
      (request) => asAlice.replaceRequestStatus(request, { ...escalated, evaluations: [] }),
      403,
      'status.evaluations is written by Greenlight only',
    ],
  ])('refuses %s', async (_case, write, code, message) => {
    const request = await escalatedRequest('admission-refuse');
    const refused = await refusal(write(request));
    expect(refused.code).toBe(code);
    expect(refused.message).toContain(message);
  });

  it('refuses an answer from someone RBAC does not let approve the policy', async () => {
    const request = await escalatedRequest('admission-rbac');
    // carol may write status (so only the approve check can stop her), but not approve the policy.
    await grant(request.metadata.namespace ?? '', { user: 'carol' }, APPROVER_RULES.slice(0, 2));
    const asCarol = new GreenlightApi(kubeConfigAs('carol'));
    const refused = await refusal(asCarol.addApprovals(request, [approval('carol')]));
    expect(refused.code).toBe(403);
    expect(refused.message).toContain("RBAC must allow you the verb 'approve' on the ApprovalPolicy");
  });

  it('refuses an answer while the request is still Pending: it counts for nothing asked yet', async () => {
    const request = await escalatedRequest('admission-pending');
    const pending = await asAdmin.replaceRequestStatus(request, { ...escalated, phase: 'Pending' });
    const refused = await eventually(async () => {
      const attempt = await refusal(asAlice.addApprovals(pending, [approval('alice')]));
      expect(attempt.code).toBe(403);
      return attempt;
    });
    expect(refused.message).toContain(
      'answers are taken only while the request waits for people (Escalated); it is Pending',
    );
  });

  it('keeps what was said as it was said, in order: no entry moved, changed or removed', async () => {
    const request = await escalatedRequest('admission-ledger');
    const withBob = await asAdmin.replaceRequestStatus(request, {
      ...escalated,
      approvals: [approval('bob')],
    });
    const attempts = {
      first: await refusal(
        asAlice.replaceRequestStatus(withBob, {
          ...escalated,
          approvals: [approval('alice', { at: '2000-01-01T00:00:00Z' }), approval('bob')],
        }),
      ),
      changed: await refusal(
        asAlice.replaceRequestStatus(withBob, {
          ...escalated,
          approvals: [approval('bob', { decision: 'Deny' }), approval('alice')],
        }),
      ),
      removed: await refusal(
        asAlice.replaceRequestStatus(withBob, { ...escalated, approvals: [approval('alice')] }),
      ),
    };
    for (const refused of Object.values(attempts)) {
      expect(refused.code).toBe(422);
      expect(refused.message).toContain('status.approvals is append-only');
    }
  });

  it('holds the controller to the same ledger: history is not rewritten by anyone', async () => {
    const request = await escalatedRequest('admission-ledger-controller');
    const both = await asAdmin.replaceRequestStatus(request, {
      ...escalated,
      approvals: [approval('alice'), approval('bob')],
    });
    const reordered = await refusal(
      asAdmin.replaceRequestStatus(both, { ...escalated, approvals: [approval('bob'), approval('alice')] }),
    );
    expect(reordered.code).toBe(422);
    expect(reordered.message).toContain('status.approvals is append-only');
    const twice = await refusal(
      asAdmin.replaceRequestStatus(both, {
        ...escalated,
        approvals: [
          approval('alice'),
          approval('bob'),
          approval('U0ALICE', { via: 'slack', kubernetesUser: 'Alice' }),
        ],
      }),
    );
    expect(twice.code).toBe(422);
    expect(twice.message).toContain('a person answers each policy once');
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
      const attempt = await refusal(asAlice.addApprovals(denied, [approval('alice')]));
      expect(attempt.code).toBe(403);
      return attempt;
    });
    expect(refused.message).toContain('answers are taken only while the request waits for people');
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
