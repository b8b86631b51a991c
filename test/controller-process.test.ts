import { afterAll, describe, expect, it } from 'vitest';
import { GreenlightApi } from '../src/k8s/greenlight-api.ts';
import {
  killControllerProcesses,
  metricsOf,
  startControllerProcess,
  type ControllerProcess,
} from './support/controller-process.ts';
import { greenlightAs } from './support/greenlight-objects.ts';
import { cluster, createTestNamespace, kubeConfigAs } from './support/cluster.ts';
import { waitForCondition } from './support/controller.ts';
import { eventually } from './support/eventually.ts';
import { grant, REQUESTER_RULES } from './support/rbac.ts';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { ApprovalRequest } from '../src/api/v1alpha1/approval-request.ts';

// `greenlight controller` as the container runs it: a separate process with probes, metrics, JSON
// logs, graceful shutdown and Lease-based leader election.

afterAll(killControllerProcesses);

async function workspace(prefix: string, when?: string): Promise<string> {
  const namespace = await createTestNamespace(prefix);
  await grant(namespace, { user: cluster().usernames.ci }, REQUESTER_RULES);
  await greenlightAs('admin').createPolicy(namespace, 'everything', {
    rules: when
      ? [{ name: 'even', when, decision: 'Approve', message: 'even' }]
      : [{ name: 'yes', decision: 'Approve', message: 'approved by the test policy' }],
    defaultDecision: 'Deny',
  });
  return namespace;
}

const admin = new GreenlightApi(kubeConfigAs('admin'));
const ci = new GreenlightApi(kubeConfigAs('ci'));

describe('greenlight controller (process)', { timeout: 180_000 }, () => {
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
    const lines = await eventually(() => {
      const parsed = controller.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(parsed).toContainEqual(
        expect.objectContaining({
          msg: 'Decided ApprovalRequest',
          namespace,
          name: 'r1',
          outcome: 'Approved',
        }),
      );
      return parsed;
    });
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

async function listRequests(namespace: string): Promise<ApprovalRequest[]> {
  const list = (await kubeConfigAs('admin').makeApiClient(CustomObjectsApi).listNamespacedCustomObject({
    group: 'greenlight.dev',
    version: 'v1alpha1',
    namespace,
    plural: 'approvalrequests',
  })) as { items: ApprovalRequest[] };
  return list.items;
}

const decidedCount = async (namespace: string): Promise<number> =>
  (await listRequests(namespace)).filter((request) => request.status?.decision).length;

describe('greenlight controller (failures)', { timeout: 180_000 }, () => {
  it('killed with SIGKILL in the middle of a burst and restarted, loses and duplicates nothing', async () => {
    const namespace = await workspace('proc-sigkill', 'params.n % 2 == 0');
    // One worker, so the kill lands while most of the burst is still undecided.
    const first = await startControllerProcess(namespace, ['--concurrency=1']);
    const total = 150;
    await Promise.all(
      Array.from({ length: total }, (_, n) =>
        ci.createRequest(namespace, `burst-${n}`, {
          action: 'pay',
          requester: cluster().usernames.ci,
          parameters: { n },
        }),
      ),
    );
    await eventually(async () => {
      expect(await decidedCount(namespace)).toBeGreaterThan(0);
    });
    first.child.kill('SIGKILL');
    await first.exited;
    const survivorsDecided = await decidedCount(namespace);

    const second = await startControllerProcess(namespace);
    await eventually(
      async () => {
        expect(await decidedCount(namespace)).toBe(total);
      },
      { timeoutMs: 40_000 },
    );
    const requests = await listRequests(namespace);
    for (const request of requests) {
      const n = Number(request.spec.parameters?.['n']);
      expect(request.status?.decision?.outcome).toBe(n % 2 === 0 ? 'Approved' : 'Denied');
    }
    const events = await kubeConfigAs('admin').makeApiClient(CoreV1Api).listNamespacedEvent({ namespace });
    const decisionsAnnounced = new Map<string, number>();
    for (const event of events.items) {
      if (event.reason === 'Approved' || event.reason === 'Denied') {
        const name = event.involvedObject.name ?? '';
        decisionsAnnounced.set(name, (decisionsAnnounced.get(name) ?? 0) + 1);
      }
    }
    expect([...decisionsAnnounced.values()].every((count) => count === 1)).toBe(true);
    expect(survivorsDecided).toBeLessThan(total);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('with leader election, exactly one decides; when the leader is SIGKILLed the standby takes over', async () => {
    const namespace = await workspace('proc-ha-kill');
    const election = [
      '--leader-elect',
      `--leader-election-namespace=${namespace}`,
      '--leader-election-id=greenlight',
      '--leader-elect-lease-duration=3s',
      '--leader-elect-renew-deadline=2s',
      '--leader-elect-retry-period=500ms',
    ];
    const candidates = [
      await startControllerProcess(namespace, election),
      await startControllerProcess(namespace, election),
    ];
    const leading = async (controller: ControllerProcess): Promise<boolean> =>
      (await metricsOf(controller)).includes('leader_election_master_status{name="greenlight"} 1');
    const [leader, standby] = await eventually(async () => {
      const states = await Promise.all(candidates.map(leading));
      expect(states.filter(Boolean)).toHaveLength(1);
      return states[0] ? [candidates[0], candidates[1]] : [candidates[1], candidates[0]];
    });
    if (!leader || !standby) throw new Error('no leader');
    await Promise.all(
      Array.from({ length: 10 }, (_, n) =>
        ci.createRequest(namespace, `one-${n}`, { action: 'x', requester: cluster().usernames.ci }),
      ),
    );
    await eventually(async () => {
      expect(await decidedCount(namespace)).toBe(10);
    });
    const decidedBy = (controller: ControllerProcess): number =>
      controller.logs.filter((line) => line.includes('"msg":"Decided ApprovalRequest"')).length;
    // The log line follows the status write: wait for it rather than race it.
    await eventually(() => {
      expect(decidedBy(leader)).toBe(10);
    });
    expect(decidedBy(standby)).toBe(0);

    leader.child.kill('SIGKILL');
    await leader.exited;
    await ci.createRequest(namespace, 'after-crash', { action: 'x', requester: cluster().usernames.ci });
    await waitForCondition(admin, namespace, 'after-crash', 'Approved', 'True', 20_000);
    await eventually(() => {
      expect(decidedBy(standby)).toBe(1);
    });
    standby.child.kill('SIGTERM');
    expect(await standby.exited).toBe(0);
  });
});
