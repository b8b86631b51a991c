import { execFile } from 'node:child_process';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { ApprovalPolicySpec } from '../src/api/v1alpha1/approval-policy.ts';
import { GreenlightApi } from '../src/k8s/greenlight-api.ts';
import { CLI, greenlight } from './support/cli.ts';
import { greenlightAs } from './support/greenlight-objects.ts';
import { cluster, createTestNamespace, kubeConfigAs } from './support/cluster.ts';
import { startController, waitForCondition, type RunningController } from './support/controller.ts';
import { eventually } from './support/eventually.ts';
import { APPROVER_RULES, grant, REQUESTER_RULES } from './support/rbac.ts';

// The CLI pipelines and people use, run as real processes against the real API server, with the
// controller deciding.

const admin = new GreenlightApi(kubeConfigAs('admin'));
const running: RunningController[] = [];
afterAll(async () => {
  await Promise.all(running.map((controller) => controller.stop()));
});

const payments: ApprovalPolicySpec = {
  selector: { actions: ['payment'] },
  rules: [
    { name: 'below-500', when: "params.currency == 'USD' && params.amount < 500", decision: 'Approve' },
  ],
  escalation: { approvers: { kubernetesGroups: ['approvers'] } },
};

async function workspace(prefix: string): Promise<string> {
  const namespace = await createTestNamespace(prefix);
  await grant(namespace, { user: cluster().usernames.ci }, REQUESTER_RULES);
  await grant(namespace, { group: 'approvers' }, APPROVER_RULES);
  await greenlightAs('admin').createPolicy(namespace, 'payments', payments);
  running.push(await startController(namespace));
  return namespace;
}

describe('greenlight request / wait', () => {
  it('asks in the caller’s name and exits 0 when the policy approves', async () => {
    const namespace = await workspace('cli-approved');
    const result = await greenlight('ci', [
      'request',
      '--action=payment',
      '--resource=invoice/INV-42',
      '--param',
      'amount=450',
      '--param',
      'currency=USD',
      '-n',
      namespace,
      '--name',
      'inv-42',
      '--wait',
    ]);
    expect(result.stdout.split('\n')[0]).toBe('inv-42');
    expect(result.code).toBe(0);
    const request = await admin.getRequest(namespace, 'inv-42');
    expect(request.spec).toMatchObject({
      requester: 'system:serviceaccount:ci:deployer',
      parameters: { amount: 450, currency: 'USD' },
    });
    expect(request.status?.decision?.decidedBy).toBe('policy:payments/below-500');
  });

  it('waits for a person: exit 0 after approve, 1 after deny', async () => {
    const namespace = await workspace('cli-people');
    const approvedWait = greenlight('ci', [
      'request',
      '--action',
      'payment',
      '--param',
      'amount=5000',
      '-n',
      namespace,
      '--name',
      'big',
      '--wait',
    ]);
    const deniedWait = greenlight('ci', [
      'request',
      '--action',
      'payment',
      '--param',
      'amount=7000',
      '-n',
      namespace,
      '--name',
      'bigger',
      '--wait',
    ]);
    await waitForCondition(admin, namespace, 'big', 'Escalated');
    await waitForCondition(admin, namespace, 'bigger', 'Escalated');

    const approve = await greenlight('alice', [
      'approve',
      'big',
      '-n',
      namespace,
      '--comment',
      'vendor verified',
    ]);
    expect(approve).toMatchObject({
      code: 0,
      stdout: `recorded: alice approves ${namespace}/big (policy payments)\n`,
    });
    const deny = await greenlight('bob', ['deny', 'bigger', '-n', namespace, '--comment', 'duplicate']);
    expect(deny.code).toBe(0);

    const approved = await approvedWait;
    expect(approved.code).toBe(0);
    expect(approved.stderr).toContain('Escalated');
    const denied = await deniedWait;
    expect(denied.code).toBe(1);
    expect((await admin.getRequest(namespace, 'bigger')).status?.decision).toMatchObject({
      decidedBy: 'user:bob',
      reason: 'denied by bob: duplicate',
    });
  });

  it('exits 2 when the request expires and 3 when waiting times out', async () => {
    const namespace = await workspace('cli-expiry');
    const expired = await greenlight('ci', [
      'request',
      '--action',
      'payment',
      '--param',
      'amount=5000',
      '--timeout',
      '2s',
      '-n',
      namespace,
      '--name',
      'late',
      '--wait',
    ]);
    expect(expired.code).toBe(2);

    await greenlight('ci', [
      'request',
      '--action',
      'payment',
      '--param',
      'amount=5000',
      '-n',
      namespace,
      '--name',
      'open',
    ]);
    const timedOut = await greenlight('ci', ['wait', 'open', '-n', namespace, '--timeout', '1s']);
    expect(timedOut.code).toBe(3);
    expect(timedOut.stderr).toContain('still undecided after 1s');
  });

  it('exits 3 with the API server’s message and a hint when the request does not exist', async () => {
    const namespace = await workspace('cli-missing');
    const result = await greenlight('ci', ['wait', 'nope', '-n', namespace]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(
      `there is no ApprovalRequest "nope" in namespace "${namespace}" (-n): check the name and the namespace.`,
    );
  });
});

describe('greenlight approve / deny / explain', () => {
  it('refuses to answer for someone without RBAC, saying what to do', async () => {
    const namespace = await workspace('cli-forbidden');
    await greenlight('ci', [
      'request',
      '--action',
      'payment',
      '--param',
      'amount=5000',
      '-n',
      namespace,
      '--name',
      'x',
    ]);
    await waitForCondition(admin, namespace, 'x', 'Escalated');
    const result = await greenlight('carol', ['approve', 'x', '-n', namespace]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`you may not read ApprovalRequests in namespace "${namespace}" (-n)`);
    expect(result.stderr).toContain(
      'ask your platform team for greenlight-viewer (to read) or greenlight-approver',
    );
  });

  it('finds the namespace a request is in when -n is missing, for someone who may look everywhere', async () => {
    const namespace = await workspace('cli-find');
    await greenlight('ci', [
      'request',
      '--action',
      'payment',
      '--param',
      'amount=5000',
      '-n',
      namespace,
      '--name',
      'lost',
    ]);
    const result = await greenlight('admin', ['explain', 'lost']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `there is no ApprovalRequest "lost" in namespace "default" (the kubeconfig context's namespace); lost is in namespace "${namespace}": add -n ${namespace}`,
    );
  });

  it('explains why no policy selects a request, policy by policy', async () => {
    const namespace = await workspace('cli-unselected');
    await greenlight('ci', ['request', '--action', 'db-migrate', '-n', namespace, '--name', 'm']);
    const denied = await waitForCondition(admin, namespace, 'm', 'Denied');
    expect(denied.status?.decision?.reason).toBe(
      'no ApprovalPolicy in Enforce mode selects this request: payments selects actions payment, not db-migrate',
    );
    const result = await greenlight('alice', ['explain', 'm', '-n', namespace]);
    expect(result.stdout).toContain('no policy selected this request');
    expect(result.stdout).toMatch(/payments\s+Enforce\s+no\s+selects actions payment, not db-migrate/);
  });

  it('prints each answer as it is counted while a pipeline waits, and shows who may still approve', async () => {
    const namespace = await workspace('cli-progress');
    await greenlightAs('admin').createPolicy(namespace, 'two', {
      selector: { actions: ['wire'] },
      escalation: { approvers: { kubernetesGroups: ['approvers'] }, requiredApprovals: 2 },
    });
    const waiting = greenlight('ci', [
      'request',
      '--action',
      'wire',
      '-n',
      namespace,
      '--name',
      'w',
      '--wait',
    ]);
    await waitForCondition(admin, namespace, 'w', 'Escalated');
    const explained = await greenlight('alice', ['explain', 'w', '-n', namespace]);
    expect(explained.stdout).toContain(
      'Waiting for:\n  0 of 2 approvals given for policy two (approvers: group approvers)',
    );
    expect((await greenlight('alice', ['approve', 'w', '-n', namespace, '--comment', 'ok'])).code).toBe(0);
    await waitForCondition(admin, namespace, 'w', 'Escalated');
    await eventually(async () => {
      expect((await admin.getRequest(namespace, 'w')).status?.observedApprovals).toBe(1);
    });
    expect((await greenlight('bob', ['approve', 'w', '-n', namespace])).code).toBe(0);
    const done = await waiting;
    expect(done.code).toBe(0);
    expect(done.stderr).toContain(
      'alice approved: "ok" — Escalated: 1 of 2 approvals given for policy two (approvers: group approvers)',
    );
    expect(done.stderr).toContain('Approved by user:bob: approved by alice, bob');
    expect(done.stderr).not.toContain('waiting for');
  });

  it('shows the parameters as typed before sending, and warns about words that are not booleans', async () => {
    const namespace = await workspace('cli-typed');
    const result = await greenlight('ci', [
      'request',
      '--action',
      'payment',
      '--param',
      'amount=450',
      '--param',
      'urgent=True',
      '--param',
      'reversible=yes',
      '--label',
      'team=billing',
      '-n',
      namespace,
      '--name',
      't',
    ]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('parameter amount = 450 (number)');
    expect(result.stderr).toContain('parameter urgent = true (bool)');
    expect(result.stderr).toContain('parameter reversible = "yes" (string) — a string, not a boolean');
    const created = await admin.getRequest(namespace, 't');
    expect(created.spec.parameters).toEqual({ amount: 450, urgent: true, reversible: 'yes' });
    expect(created.metadata.labels).toEqual({ team: 'billing' });
  });

  it('explains a decision with the why-trace and people’s answers', async () => {
    const namespace = await workspace('cli-explain');
    await greenlight('ci', [
      'request',
      '--action',
      'payment',
      '--param',
      'amount=5000',
      '--reason',
      'Q4 vendor',
      '-n',
      namespace,
      '--name',
      'e',
    ]);
    await waitForCondition(admin, namespace, 'e', 'Escalated');
    await greenlight('alice', ['approve', 'e', '-n', namespace, '--comment', 'looks right']);
    await waitForCondition(admin, namespace, 'e', 'Approved');
    const result = await greenlight('alice', ['explain', 'e', '-n', namespace]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${namespace}/e: payment`);
    expect(result.stdout).toContain('reason: Q4 vendor');
    expect(result.stdout).toContain('Approved by user:alice: approved by alice: looks right');
    expect(result.stdout).toMatch(
      /payments\s+\(default\)\s+Escalate\s+no rule matched; default decision Escalate/,
    );
    expect(result.stdout).toMatch(/alice\s+kubernetes\s+Approve/);
  });

  it('works as a kubectl plugin (kubectl greenlight …)', async () => {
    const namespace = await workspace('cli-plugin');
    await greenlight('ci', [
      'request',
      '--action',
      'payment',
      '--param',
      'amount=1',
      '--param',
      'currency=USD',
      '-n',
      namespace,
      '--name',
      'p',
    ]);
    await waitForCondition(admin, namespace, 'p', 'Decided');
    const bin = await mkdtemp(join(tmpdir(), 'greenlight-plugin-'));
    const plugin = join(bin, 'kubectl-greenlight');
    await writeFile(plugin, `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
    await chmod(plugin, 0o755);
    const { stdout } = await promisify(execFile)(
      cluster().kubectl,
      ['greenlight', 'explain', 'p', '-n', namespace],
      {
        env: {
          ...process.env,
          PATH: `${bin}:${process.env['PATH'] ?? ''}`,
          KUBECONFIG: cluster().kubeconfigs.alice,
        },
      },
    );
    expect(stdout).toContain('Approved by policy:payments/below-500');
  });
});

describe('greenlight --help', () => {
  it('lists the commands and explains each one’s flags', async () => {
    const top = await greenlight('ci', ['--help']);
    expect(top.code).toBe(0);
    for (const verb of ['request', 'wait', 'approve', 'deny', 'explain', 'test', 'controller', 'demo']) {
      expect(top.stdout).toContain(`  ${verb}`);
    }
    const request = await greenlight('ci', ['request', '--help']);
    expect(request.stdout).toContain('--param K=V');
    const unknown = await greenlight('ci', ['request', '--actoin', 'x']);
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toContain("Unknown option '--actoin'");
  });
});
