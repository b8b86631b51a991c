import { AppsV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import type { ApprovalPolicySpec } from '../src/api/v1alpha1/approval-policy.ts';
import { GreenlightApi } from '../src/k8s/greenlight-api.ts';
import { answersTo } from './support/answers.ts';
import { refusal } from './support/api-error.ts';
import { greenlightAs } from './support/greenlight-objects.ts';
import { cluster, createTestNamespace, kubeConfigAs } from './support/cluster.ts';
import { startController, waitForCondition, type RunningController } from './support/controller.ts';
import { eventually } from './support/eventually.ts';
import { APPROVER_RULES, grant, REQUESTER_RULES } from './support/rbac.ts';

// The controller against the real API server: requests created by the CI service account are decided
// by policies, by people, by time; every decision is final, explained and announced as an event.

const admin = new GreenlightApi(kubeConfigAs('admin'));
const ci = new GreenlightApi(kubeConfigAs('ci'));
const ciUser = 'system:serviceaccount:ci:deployer';
const running: RunningController[] = [];

afterAll(async () => {
  await Promise.all(running.map((controller) => controller.stop()));
});

const payments: ApprovalPolicySpec = {
  selector: { actions: ['payment'] },
  rules: [
    { name: 'over-limit', when: 'params.amount >= 100000', decision: 'Deny', message: 'over the limit' },
    {
      name: 'below-500',
      when: "params.currency == 'USD' && params.amount < 500",
      decision: 'Approve',
      message: 'payments below $500 are approved automatically',
    },
  ],
  escalation: { approvers: { kubernetesGroups: ['approvers'] }, requiredApprovals: 1 },
};

async function createPolicy(namespace: string, name: string, spec: ApprovalPolicySpec): Promise<void> {
  await greenlightAs('admin').createPolicy(namespace, name, spec);
}

/** A namespace with its own controller, where ci may ask and the approvers group may answer. */
async function workspace(prefix: string, policies: Record<string, ApprovalPolicySpec> = {}): Promise<string> {
  const namespace = await createTestNamespace(prefix);
  await grant(namespace, { user: ciUser }, REQUESTER_RULES);
  await grant(namespace, { group: 'approvers' }, APPROVER_RULES);
  for (const [name, spec] of Object.entries(policies)) await createPolicy(namespace, name, spec);
  running.push(await startController(namespace));
  return namespace;
}

async function eventsOf(namespace: string, name: string): Promise<string[]> {
  const list = await kubeConfigAs('admin').makeApiClient(CoreV1Api).listNamespacedEvent({ namespace });
  return list.items
    .filter((e) => e.involvedObject.name === name)
    .map((e) => `${e.type ?? ''} ${e.reason ?? ''}: ${e.message ?? ''}`);
}

describe('the controller', () => {
  it('approves a $450 payment by rule, explains why, and announces it', async () => {
    const namespace = await workspace('ctl-auto-approve', { payments });
    await ci.createRequest(namespace, 'inv-42', {
      action: 'payment',
      resource: 'invoice/INV-42',
      requester: ciUser,
      parameters: { amount: 450, currency: 'USD' },
    });
    const decided = await waitForCondition(admin, namespace, 'inv-42', 'Decided');
    expect(decided.status?.phase).toBe('Approved');
    expect(decided.status?.decision).toMatchObject({
      outcome: 'Approved',
      decidedBy: 'policy:payments/below-500',
      reason: 'payments: payments below $500 are approved automatically',
    });
    expect(decided.status?.evaluations).toEqual([
      {
        policy: 'payments',
        rule: 'over-limit',
        result: 'NoMatch',
        message: 'when is false',
        policyGeneration: 1,
      },
      {
        policy: 'payments',
        rule: 'below-500',
        result: 'Approve',
        message: 'payments below $500 are approved automatically',
        policyGeneration: 1,
      },
    ]);
    const conditions = Object.fromEntries((decided.status?.conditions ?? []).map((c) => [c.type, c]));
    expect(conditions['Approved']).toMatchObject({ status: 'True', observedGeneration: 1 });
    expect(conditions['Denied']?.status).toBe('False');
    expect(conditions['Escalated']?.status).toBe('False');
    await eventually(async () => {
      expect(await eventsOf(namespace, 'inv-42')).toContain(
        'Normal Approved: Approved by policy:payments/below-500: payments: payments below $500 are approved automatically',
      );
    });
  });

  it('escalates a $5,000 payment and approves it when an approver with RBAC says so', async () => {
    const namespace = await workspace('ctl-escalate', { payments });
    await ci.createRequest(namespace, 'inv-43', {
      action: 'payment',
      requester: ciUser,
      parameters: { amount: 5000, currency: 'USD' },
    });
    const escalated = await waitForCondition(admin, namespace, 'inv-43', 'Escalated');
    expect(escalated.status?.phase).toBe('Escalated');
    expect(escalated.status?.expiresAt).toBeDefined();

    const alice = new GreenlightApi(kubeConfigAs('alice'));
    await alice.addApprovals(
      escalated,
      answersTo(escalated, 'alice', 'Approve', { groups: ['approvers', 'system:authenticated'] }),
    );
    const approved = await waitForCondition(admin, namespace, 'inv-43', 'Approved');
    expect(approved.status?.decision).toMatchObject({ outcome: 'Approved', decidedBy: 'user:alice' });
    expect(approved.status?.conditions?.find((c) => c.type === 'Escalated')?.status).toBe('False');
  });

  it('ignores an approval from someone the policy does not list, and says why', async () => {
    const namespace = await workspace('ctl-outsider', { payments });
    const escalated = await (async () => {
      await ci.createRequest(namespace, 'inv-44', {
        action: 'payment',
        requester: ciUser,
        parameters: { amount: 9000 },
      });
      return waitForCondition(admin, namespace, 'inv-44', 'Escalated');
    })();
    // RBAC lets carol answer (so the API server takes her entry), but the policy lists only the
    // approvers group, and she is not in it.
    await grant(namespace, { user: 'carol' }, APPROVER_RULES);
    const carol = new GreenlightApi(kubeConfigAs('carol'));
    await carol.addApprovals(
      escalated,
      answersTo(escalated, 'carol', 'Approve', { groups: ['developers', 'system:authenticated'] }),
    );
    await eventually(async () => {
      const request = await admin.getRequest(namespace, 'inv-44');
      expect(request.status?.phase).toBe('Escalated');
      expect(request.status?.conditions?.find((c) => c.type === 'Escalated')?.message).toContain(
        'ignored: carol (not an approver of policy payments)',
      );
    });
  });

  it('denies a $250,000 payment by rule', async () => {
    const namespace = await workspace('ctl-deny-rule', { payments });
    await ci.createRequest(namespace, 'huge', {
      action: 'payment',
      requester: ciUser,
      parameters: { amount: 250000 },
    });
    const denied = await waitForCondition(admin, namespace, 'huge', 'Denied');
    expect(denied.status?.decision).toMatchObject({
      outcome: 'Denied',
      decidedBy: 'policy:payments/over-limit',
    });
  });

  it('needs two distinct approvers when a policy requires two; the same person twice counts once', async () => {
    const namespace = await workspace('ctl-two', {
      payments: {
        ...payments,
        escalation: { approvers: { kubernetesGroups: ['approvers'] }, requiredApprovals: 2 },
      },
    });
    await ci.createRequest(namespace, 'big', {
      action: 'payment',
      requester: ciUser,
      parameters: { amount: 5000 },
    });
    const request = await waitForCondition(admin, namespace, 'big', 'Escalated');
    const alice = new GreenlightApi(kubeConfigAs('alice'));
    const bob = new GreenlightApi(kubeConfigAs('bob'));
    const groups = ['approvers', 'system:authenticated'];
    await alice.addApprovals(request, answersTo(request, 'alice', 'Approve', { groups }));
    // Read again before each try: the controller's status write after the first answer can make the
    // patch's resourceVersion test fail first (also a 422), before admission sees the second answer.
    await eventually(async () => {
      const current = await admin.getRequest(namespace, 'big');
      const again = await refusal(
        alice.addApprovals(current, answersTo(current, 'alice', 'Approve', { groups })),
      );
      expect(again.code).toBe(422);
      expect(again.message).toContain('a person answers each policy once');
    });
    await eventually(async () => {
      const current = await admin.getRequest(namespace, 'big');
      expect(current.status?.conditions?.find((c) => c.type === 'Escalated')?.message).toContain(
        '1 of 2 approvals given for policy payments',
      );
    });
    const current = await admin.getRequest(namespace, 'big');
    await bob.addApprovals(current, answersTo(current, 'bob', 'Approve', { groups }));
    const approved = await waitForCondition(admin, namespace, 'big', 'Approved');
    expect(approved.status?.decision).toMatchObject({
      decidedBy: 'user:bob',
      reason: 'approved by alice, bob',
    });
    expect(approved.status?.approvals?.map((a) => a.approver)).toEqual(['alice', 'bob']);
  });

  it('denies, as the controller, a request no policy selects', async () => {
    const namespace = await workspace('ctl-no-policy', { payments });
    await ci.createRequest(namespace, 'migrate', { action: 'db-migrate', requester: ciUser });
    const denied = await waitForCondition(admin, namespace, 'migrate', 'Denied');
    expect(denied.status?.decision).toMatchObject({
      outcome: 'Denied',
      decidedBy: 'controller',
      reason:
        'no ApprovalPolicy in Enforce mode selects this request: payments selects actions payment, not db-migrate',
    });
  });

  it('reports an invalid policy as Ready=False with the position, and decides nothing with it', async () => {
    const namespace = await workspace('ctl-invalid', {
      broken: { rules: [{ name: 'typo', when: 'parms.amount < 10', decision: 'Approve' }] },
    });
    const objects = kubeConfigAs('admin').makeApiClient(CustomObjectsApi);
    const policy = await eventually(async () => {
      const read = (await objects.getNamespacedCustomObject({
        group: 'greenlight.dev',
        version: 'v1alpha1',
        namespace,
        plural: 'approvalpolicies',
        name: 'broken',
      })) as {
        status?: { conditions?: { type: string; status: string; reason: string; message: string }[] };
      };
      const ready = read.status?.conditions?.find((c) => c.type === 'Ready');
      if (!ready) throw new Error('no Ready condition yet');
      return ready;
    });
    expect(policy).toMatchObject({ status: 'False', reason: 'InvalidPolicy' });
    expect(policy.message).toContain(
      "spec.rules[0].when (line 1, column 1): undeclared reference to 'parms'",
    );

    await ci.createRequest(namespace, 'pay', {
      action: 'payment',
      requester: ciUser,
      parameters: { amount: 5 },
    });
    const pending = await eventually(async () => {
      const request = await admin.getRequest(namespace, 'pay');
      expect(request.status?.phase).toBe('Pending');
      return request;
    });
    expect(pending.status?.evaluations?.[0]?.result).toBe('Error');
  });

  it('expires a request nobody decides at its timeout', async () => {
    const namespace = await workspace('ctl-expire', { payments });
    await ci.createRequest(namespace, 'slow', {
      action: 'payment',
      requester: ciUser,
      parameters: { amount: 5000 },
      timeout: '2s',
    });
    const expired = await waitForCondition(admin, namespace, 'slow', 'Denied');
    expect(expired.status?.phase).toBe('Expired');
    expect(expired.status?.decision).toMatchObject({ outcome: 'Expired', decidedBy: 'timeout' });
    expect(expired.status?.conditions?.find((c) => c.type === 'Denied')?.reason).toBe('Expired');
  });

  it('holds a production deployment until staging has been green for 24 hours, then approves it by itself', async () => {
    const staging = await createTestNamespace('ctl-staging');
    const apps = kubeConfigAs('admin').makeApiClient(AppsV1Api);
    const deployment = await apps.createNamespacedDeployment({
      namespace: staging,
      body: {
        metadata: { name: 'web' },
        spec: {
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { containers: [{ name: 'web', image: 'registry.example.com/web:v2.4.1' }] },
          },
        },
      },
    });
    const namespace = await workspace('ctl-soak', {
      deployments: {
        context: [
          {
            name: 'staging',
            resource: {
              apiVersion: 'apps/v1',
              kind: 'Deployment',
              namespace: staging,
              nameExpression: 'request.spec.resource',
            },
          },
        ],
        rules: [
          {
            name: 'green-24h',
            when: "staging != null && has(staging.status) && has(staging.status.conditions) && staging.status.conditions.exists(c, c.type == 'Available' && c.status == 'True' && now - timestamp(c.lastTransitionTime) >= duration('24h'))",
            decision: 'Approve',
          },
        ],
        defaultDecision: 'Hold',
      },
    });
    await ci.createRequest(namespace, 'prod-web', { action: 'deploy', resource: 'web', requester: ciUser });
    await eventually(async () => {
      expect((await admin.getRequest(namespace, 'prod-web')).status?.phase).toBe('Pending');
    });

    const dayAgo = new Date(Date.now() - 25 * 3600_000);
    await apps.replaceNamespacedDeploymentStatus({
      namespace: staging,
      name: 'web',
      body: {
        ...(deployment.metadata ? { metadata: deployment.metadata } : {}),
        ...(deployment.spec ? { spec: deployment.spec } : {}),
        status: {
          conditions: [
            {
              type: 'Available',
              status: 'True',
              lastTransitionTime: dayAgo,
              reason: 'MinimumReplicasAvailable',
              message: 'ok',
            },
          ],
        },
      },
    });
    // The change of the context object triggers the evaluation: no waiting for the one-minute re-check.
    const approved = await waitForCondition(admin, namespace, 'prod-web', 'Approved', 'True', 15_000);
    expect(approved.status?.decision?.decidedBy).toBe('policy:deployments/green-24h');
  });

  it('never changes a final decision, even when a policy change would decide otherwise', async () => {
    const namespace = await workspace('ctl-final', { payments });
    await ci.createRequest(namespace, 'small', {
      action: 'payment',
      requester: ciUser,
      parameters: { amount: 10, currency: 'USD' },
    });
    const approved = await waitForCondition(admin, namespace, 'small', 'Approved');
    await createPolicy(namespace, 'deny-all', { rules: [{ name: 'no', decision: 'Deny' }] });
    await createPolicy(namespace, 'marker', {
      selector: { actions: ['marker'] },
      rules: [{ name: 'ok', decision: 'Approve' }],
    });
    // Once a later request is decided, the controller has seen both policies.
    await ci.createRequest(namespace, 'later', { action: 'marker', requester: ciUser });
    await waitForCondition(admin, namespace, 'later', 'Decided');
    expect((await admin.getRequest(namespace, 'small')).status).toEqual(approved.status);
  });
});

describe('the controller process', () => {
  it('counts decisions in its metrics without unbounded labels', async () => {
    const namespace = await createTestNamespace('ctl-metrics');
    await grant(namespace, { user: ciUser }, REQUESTER_RULES);
    await createPolicy(namespace, 'payments', payments);
    const controller = await startController(namespace);
    running.push(controller);
    await ci.createRequest(namespace, 'm1', {
      action: 'payment',
      requester: ciUser,
      parameters: { amount: 1, currency: 'USD' },
    });
    await waitForCondition(admin, namespace, 'm1', 'Decided');
    // The controller counts and logs a decision once its status write has returned: wait, don't race.
    const text = await eventually(async () => {
      const body = (await controller.metrics.metrics()).body;
      expect(body).toMatch(/greenlight_decisions_total\{outcome="approved",decided_by="policy"\} 1/);
      return body;
    });
    expect(text).toMatch(
      /controller_runtime_reconcile_total\{controller="approvalrequest",result="(success|requeue_after)"\} \d+/,
    );
    expect(text).not.toContain('m1');
    await eventually(() => {
      expect(
        controller.logs.some(
          (line) => line.includes(`"namespace":"${namespace}"`) && line.includes('Decided ApprovalRequest'),
        ),
      ).toBe(true);
    });
    expect(cluster().usernames.ci).toBe(ciUser);
  });
});
