import { afterAll, describe, expect, it } from 'vitest';
import type { ApprovalPolicySpec } from '../src/api/v1alpha1/approval-policy.ts';
import type { ApprovalRequest, ApprovalRequestSpec } from '../src/api/v1alpha1/approval-request.ts';
import { ARGOCD_HEALTH_FILE } from '../src/api/v1alpha1/gitops.ts';
import { GreenlightApi } from '../src/k8s/greenlight-api.ts';
import { servesMutatingAdmissionPolicies } from '../src/local-cluster/kubectl.ts';
import { REPOSITORY_ROOT } from './support/chart.ts';
import { runProcess, type CliResult } from './support/cli.ts';
import { cluster, createTestNamespace, kubeConfigAs } from './support/cluster.ts';
import { startController, waitForCondition, type RunningController } from './support/controller.ts';
import { eventually } from './support/eventually.ts';
import { greenlightAs } from './support/greenlight-objects.ts';
import { APPROVER_RULES, grant, REQUESTER_RULES } from './support/rbac.ts';
import { argoHealth, kstatus } from './support/verdict-tools.ts';

// What GitOps tools make of real requests read from the real API server: the kstatus library Flux
// waits with, and Argo CD's Lua runtime running the health check Greenlight ships; and a request kept
// in Git, applied with kubectl as a GitOps controller would.

const admin = new GreenlightApi(kubeConfigAs('admin'));
const ci = new GreenlightApi(kubeConfigAs('ci'));
const ciUser = cluster().usernames.ci;
const running: RunningController[] = [];
afterAll(async () => {
  await Promise.all(running.map((controller) => controller.stop()));
});

const payments: ApprovalPolicySpec = {
  selector: { actions: ['payment'] },
  rules: [
    { name: 'huge', when: 'params.amount >= 100000', decision: 'Deny', message: 'too large' },
    { name: 'small', when: 'params.amount < 500', decision: 'Approve', message: 'small payments are fine' },
  ],
  escalation: { approvers: { kubernetesGroups: ['approvers'] } },
};
const freeze: ApprovalPolicySpec = {
  selector: { actions: ['deploy'] },
  rules: [{ name: 'frozen', decision: 'Hold', message: 'deploys are frozen' }],
};

/** One request in each state, as the controller left it. */
async function requestsInEveryPhase(): Promise<Record<string, ApprovalRequest>> {
  const namespace = await createTestNamespace('gitops-verdicts');
  await grant(namespace, { user: ciUser }, REQUESTER_RULES);
  await grant(namespace, { group: 'approvers' }, APPROVER_RULES);
  await greenlightAs('admin').createPolicy(namespace, 'payments', payments);
  await greenlightAs('admin').createPolicy(namespace, 'freeze', freeze);
  running.push(await startController(namespace));
  const ask = (name: string, spec: Omit<ApprovalRequestSpec, 'requester'>) =>
    eventually(() => ci.createRequest(namespace, name, { ...spec, requester: ciUser }));
  await ask('pending', { action: 'deploy', resource: 'web' });
  await ask('escalated', { action: 'payment', parameters: { amount: 5000 } });
  await ask('approved', { action: 'payment', parameters: { amount: 100 } });
  await ask('denied', { action: 'payment', parameters: { amount: 250000 } });
  await ask('expired', { action: 'payment', parameters: { amount: 5000 }, timeout: '2s' });
  const settled = async (name: string, type: string, status: 'True' | 'False' = 'True') =>
    waitForCondition(admin, namespace, name, type, status);
  return {
    pending: await eventually(async () => {
      const request = await admin.getRequest(namespace, 'pending');
      expect(request.status?.phase).toBe('Pending');
      return request;
    }),
    escalated: await settled('escalated', 'Escalated'),
    approved: await settled('approved', 'Approved'),
    denied: await settled('denied', 'Denied'),
    expired: await eventually(async () => {
      const request = await admin.getRequest(namespace, 'expired');
      expect(request.status?.phase).toBe('Expired');
      return request;
    }),
  };
}

function kubectl(args: readonly string[], stdin: string, kubeconfig: string): Promise<CliResult> {
  return runProcess(cluster().kubectl, args, { env: { ...process.env, KUBECONFIG: kubeconfig }, stdin });
}

describe('GitOps tools on real requests', () => {
  it('reads undecided as in progress, approved as ready and refused as failed: kstatus and Argo CD', async () => {
    const requests = await requestsInEveryPhase();
    const objects = Object.values(requests);
    const byName = <T extends { name: string }>(verdicts: readonly T[]) =>
      Object.fromEntries(verdicts.map((verdict) => [verdict.name, verdict]));

    const flux = byName(await kstatus(objects));
    expect(Object.fromEntries(Object.entries(flux).map(([name, v]) => [name, v.status]))).toEqual({
      pending: 'InProgress',
      escalated: 'InProgress',
      approved: 'Current',
      denied: 'Failed',
      expired: 'Failed',
    });
    expect(flux['escalated']?.message).toContain('0 of 1 approvals given for policy payments');
    expect(flux['denied']?.message).toContain('Denied: too large');

    const argo = byName(await argoHealth(`${REPOSITORY_ROOT}${ARGOCD_HEALTH_FILE}`, objects));
    expect(argo).toEqual({
      pending: {
        name: 'pending',
        status: 'Progressing',
        message: 'Pending: held by policy freeze: deploys are frozen',
      },
      escalated: {
        name: 'escalated',
        status: 'Progressing',
        message: 'Escalated: 0 of 1 approvals given for policy payments (approvers: group approvers)',
      },
      approved: {
        name: 'approved',
        status: 'Healthy',
        message: 'Approved by policy:payments/small: payments: small payments are fine',
      },
      denied: { name: 'denied', status: 'Degraded', message: 'Denied by policy:payments/huge: too large' },
      expired: expect.objectContaining({ name: 'expired', status: 'Degraded' }) as unknown,
    });
    expect(argo['expired']?.message).toMatch(/^Expired by timeout: no decision within/);
  });

  it('applies a request kept in Git with kubectl, without a requester on 1.36+, and refuses an edit', async () => {
    const namespace = await createTestNamespace('gitops-apply');
    await grant(namespace, { user: ciUser }, [
      ...REQUESTER_RULES,
      { apiGroups: ['greenlight.dev'], resources: ['approvalrequests'], verbs: ['patch', 'update'] },
    ]);
    const manifest = (version: string) => `apiVersion: greenlight.dev/v1alpha1
kind: ApprovalRequest
metadata:
  name: deploy-web
  namespace: ${namespace}
spec:
  action: deploy
  resource: web
  parameters: { version: ${version} }
`;
    const applied = await eventually(async () => {
      const result = await kubectl(
        ['apply', '--server-side', '-f', '-'],
        manifest('v2.4.1'),
        cluster().kubeconfigs.ci,
      );
      if (result.code !== 0 && result.stderr.includes('forbidden')) throw new Error(result.stderr);
      return result;
    });
    if (await servesMutatingAdmissionPolicies(cluster().kubectl, cluster().kubeconfigs.admin)) {
      expect(applied.code, applied.stderr).toBe(0);
      expect((await admin.getRequest(namespace, 'deploy-web')).spec.requester).toBe(ciUser);
      const edited = await kubectl(
        ['apply', '--server-side', '-f', '-'],
        manifest('v2.5.0'),
        cluster().kubeconfigs.ci,
      );
      expect(edited.code).not.toBe(0);
      expect(edited.stderr).toContain(
        'spec is immutable: create a new ApprovalRequest to ask for something else',
      );
    } else {
      expect(applied.code).not.toBe(0);
      expect(applied.stderr).toContain('spec.requester is required');
    }
  });
});
