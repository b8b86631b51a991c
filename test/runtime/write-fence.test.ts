import { describe, expect, it } from 'vitest';
import { isNotFound } from '../../src/k8s/api-errors.ts';
import { KubeHttp, NotLeaderError } from '../../src/k8s/kube-http.ts';
import { LeaderElector } from '../../src/runtime/leader-election.ts';
import { createTestNamespace, kubeConfigAs } from '../support/cluster.ts';
import { eventually } from '../support/eventually.ts';

// A file of its own: the test blocks its event loop on purpose, which would upset the timings of
// leader-election tests running beside it in the same worker.

const LEASE_DURATION_MS = 2_000;
const RENEW_DEADLINE_MS = 1_500;
const RETRY_PERIOD_MS = 300;

describe('the write fence of a leader', () => {
  it('sends no write once the process stalled past its renew deadline, even before its own timers run', async ({
    onTestFinished,
  }) => {
    const namespace = await createTestNamespace('leader-fence');
    const config = kubeConfigAs('admin');
    const stop = new AbortController();
    const elector = new LeaderElector({
      kubeConfig: config,
      namespace,
      name: 'greenlight',
      identity: 'greenlight-a',
      leaseDurationMs: LEASE_DURATION_MS,
      renewDeadlineMs: RENEW_DEADLINE_MS,
      retryPeriodMs: RETRY_PERIOD_MS,
      onStartedLeading: () => undefined,
      onStoppedLeading: () => undefined,
    });
    const http = KubeHttp.for(config);
    const path = `/api/v1/namespaces/${namespace}/configmaps`;
    const configMap = (name: string): unknown => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name },
    });
    // Before it ever led, a process writes freely (a standby takes people's answers), with no bound.
    http.setWriteFence(
      () => elector.writesAllowed(),
      () => elector.writeWindowMs(),
    );
    expect(elector.writeWindowMs()).toBeUndefined();
    await http.json('POST', path, configMap('before-leading'));
    const running = elector.run(stop.signal);
    onTestFinished(async () => {
      stop.abort();
      await running;
      http.setWriteFence(undefined);
    });
    await eventually(
      () => {
        expect(elector.isLeader).toBe(true);
        return Promise.resolve();
      },
      { intervalMs: 20 },
    );
    // A leader's writes must land before the lease could have changed hands: the API server is told
    // to give up on them (and accepts the parameter) by halfway between renew deadline and expiry.
    const windowMs = elector.writeWindowMs() ?? Number.NaN;
    expect(windowMs).toBeGreaterThan(0);
    expect(windowMs).toBeLessThanOrEqual((LEASE_DURATION_MS + RENEW_DEADLINE_MS) / 2);
    await http.json('POST', path, configMap('while-leading'));
    // Every verb the controller writes with takes the parameter (status patches, retention's deletes).
    await http.json('POST', path, configMap('patched-and-deleted'));
    await http.json(
      'PATCH',
      `${path}/patched-and-deleted`,
      { data: { decided: 'yes' } },
      { contentType: 'application/merge-patch+json' },
    );
    await http.json('PUT', `${path}/while-leading`, {
      ...(await http.json<object>('GET', `${path}/while-leading`)),
      data: { renewed: 'yes' },
    });
    await http.json('DELETE', `${path}/patched-and-deleted`);

    // What SIGSTOP does to a process: nothing of it runs, timers included, for longer than the lease.
    const stalledUntil = performance.now() + LEASE_DURATION_MS;
    while (performance.now() < stalledUntil) {
      // blocked, as a stopped process is
    }
    // The first thing to run afterwards; the renew-deadline timer has not fired yet.
    expect(elector.isLeader).toBe(true);
    expect(elector.writeWindowMs()).toBe(0);
    await expect(http.json('POST', path, configMap('after-the-stall'))).rejects.toBeInstanceOf(
      NotLeaderError,
    );
    // Reads are not fenced; the refused write never reached the API server.
    await expect(http.json('GET', `${path}/after-the-stall`)).rejects.toSatisfy(isNotFound);
    expect(await http.json('GET', `${path}/while-leading`)).toMatchObject({
      metadata: { name: 'while-leading' },
      data: { renewed: 'yes' },
    });
  });
});
