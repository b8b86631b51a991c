import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { GreenlightApi } from '../src/k8s/greenlight-api.ts';
import { freeLoopbackPort } from '../src/local-cluster/ports.ts';
import { CLI } from './support/cli.ts';
import { cluster, createTestNamespace, kubeConfigAs } from './support/cluster.ts';
import { waitForCondition } from './support/controller.ts';
import { eventually } from './support/eventually.ts';
import { grant, REQUESTER_RULES } from './support/rbac.ts';
import { CustomObjectsApi } from '@kubernetes/client-node';

// `greenlight controller` as the container runs it: a separate process with probes, metrics, JSON
// logs, graceful shutdown and Lease-based leader election.

interface ControllerProcess {
  readonly child: ChildProcess;
  readonly metricsUrl: string;
  readonly probesUrl: string;
  readonly logs: string[];
  readonly exited: Promise<number | null>;
}

const started: ControllerProcess[] = [];
afterAll(() => {
  for (const process of started) process.child.kill('SIGKILL');
});

async function startControllerProcess(namespace: string, extra: string[] = []): Promise<ControllerProcess> {
  const [metricsPort, probesPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
  const child = spawn(
    process.execPath,
    [
      CLI,
      'controller',
      `--namespace=${namespace}`,
      `--metrics-bind-address=127.0.0.1:${metricsPort}`,
      `--health-probe-bind-address=127.0.0.1:${probesPort}`,
      '--log-format=json',
      ...extra,
    ],
    { env: { ...process.env, KUBECONFIG: cluster().kubeconfigs.admin }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const logs: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => logs.push(...chunk.toString().split('\n').filter(Boolean)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const controller = {
    child,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    probesUrl: `http://127.0.0.1:${probesPort}`,
    logs,
    exited,
  };
  started.push(controller);
  return controller;
}

async function metricsOf(controller: ControllerProcess): Promise<string> {
  return (await fetch(controller.metricsUrl)).text();
}

async function workspace(prefix: string): Promise<string> {
  const namespace = await createTestNamespace(prefix);
  await grant(namespace, { user: cluster().usernames.ci }, REQUESTER_RULES);
  await kubeConfigAs('admin')
    .makeApiClient(CustomObjectsApi)
    .createNamespacedCustomObject({
      group: 'greenlight.dev',
      version: 'v1alpha1',
      namespace,
      plural: 'approvalpolicies',
      body: {
        apiVersion: 'greenlight.dev/v1alpha1',
        kind: 'ApprovalPolicy',
        metadata: { name: 'everything' },
        spec: { rules: [{ name: 'yes', decision: 'Approve', message: 'approved by the test policy' }] },
      },
    });
  return namespace;
}

const admin = new GreenlightApi(kubeConfigAs('admin'));
const ci = new GreenlightApi(kubeConfigAs('ci'));

describe('greenlight controller (process)', () => {
  it('gets ready, decides, exposes metrics, logs JSON about each request, and stops on SIGTERM', async () => {
    const namespace = await workspace('proc-single');
    const controller = await startControllerProcess(namespace);
    await eventually(async () => {
      expect((await fetch(`${controller.probesUrl}/readyz`)).status).toBe(200);
    });
    expect(await (await fetch(`${controller.probesUrl}/healthz`)).text()).toBe('ok');

    await ci.createRequest(namespace, 'r1', { action: 'deploy', requester: cluster().usernames.ci });
    await waitForCondition(admin, namespace, 'r1', 'Approved');
    await eventually(async () => {
      expect(await metricsOf(controller)).toMatch(
        /greenlight_decisions_total\{outcome="approved",decided_by="policy"\} 1/,
      );
    });
    const lines = controller.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'Decided ApprovalRequest', namespace, name: 'r1', outcome: 'Approved' }),
    );
    expect(
      lines.some(
        (line) =>
          line['msg'] ===
          'Slack is not configured (SLACK_BOT_TOKEN is empty): running without Slack announcements or escalations',
      ),
    ).toBe(true);

    controller.child.kill('SIGTERM');
    expect(await controller.exited).toBe(0);
  });

  it('elects one leader; a standby takes over at once when the leader shuts down', async () => {
    const namespace = await workspace('proc-ha');
    const election = [
      '--leader-elect',
      `--leader-election-namespace=${namespace}`,
      '--leader-election-id=greenlight',
    ];
    const [a, b] = [
      await startControllerProcess(namespace, election),
      await startControllerProcess(namespace, election),
    ];
    const leaderStatus = async (controller: ControllerProcess): Promise<number | undefined> => {
      const match = /leader_election_master_status\{name="greenlight"\} (\d)/.exec(
        await metricsOf(controller),
      );
      return match ? Number(match[1]) : undefined;
    };
    const [leader, standby] = await eventually(async () => {
      const statuses = [await leaderStatus(a), await leaderStatus(b)];
      expect(statuses.sort()).toEqual([0, 1]);
      return (await leaderStatus(a)) === 1 ? [a, b] : [b, a];
    });
    // The standby is warm: ready, with synced caches, though it decides nothing.
    expect((await fetch(`${standby.probesUrl}/readyz`)).status).toBe(200);

    await ci.createRequest(namespace, 'before', { action: 'deploy', requester: cluster().usernames.ci });
    await waitForCondition(admin, namespace, 'before', 'Approved');

    leader.child.kill('SIGTERM');
    expect(await leader.exited).toBe(0);
    await eventually(
      async () => {
        expect(await leaderStatus(standby)).toBe(1);
      },
      { timeoutMs: 10_000 },
    );
    await ci.createRequest(namespace, 'after', { action: 'deploy', requester: cluster().usernames.ci });
    await waitForCondition(admin, namespace, 'after', 'Approved');
    standby.child.kill('SIGTERM');
    expect(await standby.exited).toBe(0);
  });
});
