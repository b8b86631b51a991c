import { afterAll, describe, expect, it } from 'vitest';
import type { ApprovalRequest, ApprovalRequestStatus } from '../src/api/v1alpha1/approval-request.ts';
import { runRetention } from '../src/controllers/retention.ts';
import { GreenlightApi } from '../src/k8s/greenlight-api.ts';
import { createLogger } from '../src/observability/logger.ts';
import { cluster, createTestNamespace, kubeConfigAs } from './support/cluster.ts';
import { startController, type RunningController } from './support/controller.ts';
import { eventually } from './support/eventually.ts';
import { grant, REQUESTER_RULES } from './support/rbac.ts';

// Retention of decided requests (--retain-decided) against the real API server: only decided requests
// older than the limit go, a few at a time, and never an undecided one.

const admin = new GreenlightApi(kubeConfigAs('admin'));
const ci = new GreenlightApi(kubeConfigAs('ci'));
const DAY_MS = 24 * 3_600_000;
const running: RunningController[] = [];
afterAll(async () => {
  await Promise.all(running.map((controller) => controller.stop()));
});

const decided = (phase: 'Approved' | 'Denied' | 'Expired', decidedAt: Date): ApprovalRequestStatus => ({
  phase,
  decision: {
    outcome: phase,
    decidedBy: phase === 'Expired' ? 'timeout' : 'controller',
    reason: 'history',
    decidedAt: decidedAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  },
});

/** Requests with the statuses given, written as the controller would (the admin holds its verb). */
async function history(namespace: string, statuses: Record<string, ApprovalRequestStatus>): Promise<void> {
  await grant(namespace, { user: cluster().usernames.ci }, REQUESTER_RULES);
  for (const [name, status] of Object.entries(statuses)) {
    const created = await eventually(() =>
      ci.createRequest(namespace, name, { action: 'deploy', requester: cluster().usernames.ci }),
    );
    await admin.replaceRequestStatus(created, status);
  }
}

async function names(namespace: string): Promise<string[]> {
  const page = (await admin.listPage('approvalrequests', namespace, undefined)) as {
    items: ApprovalRequest[];
  };
  return page.items.map((request) => request.metadata.name ?? '').sort();
}

describe('retention of decided requests', () => {
  it('deletes only decided requests past the limit, a batch at a time, never an undecided one', async () => {
    const namespace = await createTestNamespace('retention-sweep');
    const now = new Date();
    const old = new Date(now.getTime() - 40 * DAY_MS);
    await history(namespace, {
      'old-approved-1': decided('Approved', old),
      'old-approved-2': decided('Approved', old),
      'old-denied': decided('Denied', old),
      'old-expired': decided('Expired', old),
      'old-approved-3': decided('Approved', old),
      'recent-approved': decided('Approved', new Date(now.getTime() - DAY_MS)),
      escalated: { phase: 'Escalated' },
      pending: { phase: 'Pending' },
    });

    const stop = new AbortController();
    const batches: number[] = [];
    let deleted = 0;
    let sinceLastPause = 0;
    await runRetention(
      { retainMs: 30 * DAY_MS, batchSize: 2, pauseMs: 5 },
      {
        api: admin,
        namespace,
        logger: createLogger({ format: 'json', level: 'error' }),
        now: () => now,
        onDeleted: () => {
          deleted += 1;
          sinceLastPause += 1;
        },
        pause: async (ms) => {
          batches.push(sinceLastPause);
          sinceLastPause = 0;
          // The pause between sweeps (the long one) ends the test after the first sweep.
          if (ms > 5) stop.abort();
          await Promise.resolve();
        },
      },
      stop.signal,
    );
    expect(await names(namespace)).toEqual(['escalated', 'pending', 'recent-approved']);
    expect(deleted).toBe(5);
    // Five deletions with batches of two: 2, 2, then the last one before the sweep ends.
    expect(batches).toEqual([2, 2, 1]);
  });

  it('runs in the controller with --retain-decided, counted in a metric', async () => {
    const namespace = await createTestNamespace('retention-controller');
    const old = new Date(Date.now() - 40 * DAY_MS);
    await history(namespace, { 'old-1': decided('Approved', old), 'old-2': decided('Denied', old) });
    const controller = await startController(namespace, { retention: { retainMs: 30 * DAY_MS } });
    running.push(controller);
    await eventually(async () => {
      expect(await names(namespace)).toEqual([]);
    });
    expect((await controller.metrics.metrics()).body).toMatch(/greenlight_retention_deleted_total 2/);
  });
});
