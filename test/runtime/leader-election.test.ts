import { CoordinationV1Api, RbacAuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it, type TestContext } from 'vitest';
import { statusCodeOf } from '../../src/k8s/api-errors.ts';
import { epochMsOf, LeaderElector, microTime } from '../../src/runtime/leader-election.ts';
import { refusal } from '../support/api-error.ts';
import { createTestNamespace, kubeConfigAs } from '../support/cluster.ts';
import { eventually } from '../support/eventually.ts';

// Short timings so takeovers happen within seconds: others wait 2 s after the last renewal they saw,
// a leader gives up 1.5 s after its last successful renewal, and everyone retries every 300 ms.
const LEASE_DURATION_MS = 2_000;
const RENEW_DEADLINE_MS = 1_500;
const RETRY_PERIOD_MS = 300;
const LEASE = 'greenlight-leader';
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

const admin = (): CoordinationV1Api => kubeConfigAs('admin').makeApiClient(CoordinationV1Api);

interface Candidate {
  readonly identity: string;
  readonly elector: LeaderElector;
  /** 'started' and 'stopped', in the order the callbacks ran. */
  readonly events: string[];
  readonly stoppedAt: number[];
  readonly leadersSeen: string[];
  readonly errors: unknown[];
  readonly running: Promise<void>;
  /** Aborts the run loop without releasing the lease, as a crash would. */
  readonly crash: () => Promise<void>;
}

/**
 * Starts an elector that the test stops when it ends. Hooks come from the test's own context: with
 * concurrent tests, vitest cannot tell which test a global onTestFinished belongs to.
 */
function candidate(
  { onTestFinished }: TestContext,
  namespace: string,
  identity: string,
  kubeConfig: KubeConfig = kubeConfigAs('admin'),
): Candidate {
  const events: string[] = [];
  const stoppedAt: number[] = [];
  const leadersSeen: string[] = [];
  const errors: unknown[] = [];
  const controller = new AbortController();
  const elector = new LeaderElector({
    kubeConfig,
    namespace,
    name: LEASE,
    identity,
    leaseDurationMs: LEASE_DURATION_MS,
    renewDeadlineMs: RENEW_DEADLINE_MS,
    retryPeriodMs: RETRY_PERIOD_MS,
    onStartedLeading: () => events.push('started'),
    onStoppedLeading: () => {
      events.push('stopped');
      stoppedAt.push(Date.now());
    },
    onNewLeader: (leader) => leadersSeen.push(leader),
    onError: (error) => errors.push(error),
  });
  const running = elector.run(controller.signal);
  const crash = async (): Promise<void> => {
    controller.abort();
    await running;
  };
  onTestFinished(crash);
  return { identity, elector, events, stoppedAt, leadersSeen, errors, running, crash };
}

async function readLease(namespace: string): Promise<{
  holder: string | undefined;
  transitions: number | undefined;
  durationSeconds: number | undefined;
  renewTime: unknown;
  acquireTime: unknown;
}> {
  const spec = (await admin().readNamespacedLease({ namespace, name: LEASE })).spec;
  return {
    holder: spec?.holderIdentity,
    transitions: spec?.leaseTransitions,
    durationSeconds: spec?.leaseDurationSeconds,
    renewTime: spec?.renewTime,
    acquireTime: spec?.acquireTime,
  };
}

async function leaderOf(namespace: string, candidates: readonly Candidate[]): Promise<Candidate> {
  return eventually(
    async () => {
      const leading = candidates.filter((c) => c.elector.isLeader);
      expect(leading).toHaveLength(1);
      const [leader] = leading;
      if (!leader) throw new Error('no leader');
      expect((await readLease(namespace)).holder).toBe(leader.identity);
      return leader;
    },
    { intervalMs: 20 },
  );
}

describe('leader election on a Lease', () => {
  it('lets exactly one of two candidates lead, and keeps renewing with six-digit MicroTimes', async (context) => {
    const namespace = await createTestNamespace('leader-one');
    const a = candidate(context, namespace, 'greenlight-a');
    const b = candidate(context, namespace, 'greenlight-b');

    const leader = await leaderOf(namespace, [a, b]);
    const standby = leader === a ? b : a;
    const first = await readLease(namespace);
    const renewTimes = new Set<unknown>();
    await eventually(async () => {
      const lease = await readLease(namespace);
      expect(lease.holder).toBe(leader.identity);
      renewTimes.add(lease.renewTime);
      expect(renewTimes.size).toBeGreaterThanOrEqual(4);
    });

    expect(leader.events).toEqual(['started']);
    expect(standby.events).toEqual([]);
    expect(standby.elector.isLeader).toBe(false);
    expect(standby.elector.leader).toBe(leader.identity);
    expect(standby.leadersSeen).toEqual([leader.identity]);
    expect(leader.leadersSeen).toEqual([leader.identity]);
    const last = await readLease(namespace);
    expect(last).toMatchObject({ transitions: 0, durationSeconds: 2, acquireTime: first.acquireTime });
    // client-node hands MicroTimes back as the strings the server sent.
    expect(last.renewTime).toEqual(expect.stringMatching(MICRO_TIME));
    expect(last.acquireTime).toEqual(expect.stringMatching(MICRO_TIME));
    expect(leader.errors).toEqual([]);
  });

  it('is refused a MicroTime with three fractional digits, which is why microTime() pads to six', async () => {
    const namespace = await createTestNamespace('leader-microtime');
    const lease = (name: string, renewTime: Date) => ({
      namespace,
      body: { metadata: { name }, spec: { holderIdentity: 'someone', leaseDurationSeconds: 15, renewTime } },
    });
    const refused = await refusal(admin().createNamespacedLease(lease('plain-date', new Date())));
    expect(refused.code).toBe(400);
    expect(refused.message).toContain('as ".000000"');

    const created = await admin().createNamespacedLease(lease('micro-time', microTime(Date.now())));
    expect(created.spec?.renewTime).toEqual(expect.stringMatching(MICRO_TIME));
  });

  it('hands over at once on release: the holder is cleared and a standby leads well before expiry', async (context) => {
    const namespace = await createTestNamespace('leader-release');
    const a = candidate(context, namespace, 'greenlight-a');
    await leaderOf(namespace, [a]);
    const b = candidate(context, namespace, 'greenlight-b');
    await eventually(() => {
      expect(b.leadersSeen).toEqual(['greenlight-a']);
      return Promise.resolve();
    });

    const releasedAt = Date.now();
    expect(await a.elector.release()).toBe(true);
    expect(a.events).toEqual(['started', 'stopped']);
    expect(a.elector.isLeader).toBe(false);
    await a.running;

    await leaderOf(namespace, [a, b]);
    expect(Date.now() - releasedAt).toBeLessThan(LEASE_DURATION_MS);
    expect(b.events).toEqual(['started']);
    expect(await readLease(namespace)).toMatchObject({
      holder: 'greenlight-b',
      transitions: 1,
      durationSeconds: 2,
    });
    expect(a.events).toEqual(['started', 'stopped']);
  });

  it('leaves a released lease without holder and with a one-second duration', async (context) => {
    const namespace = await createTestNamespace('leader-released');
    const a = candidate(context, namespace, 'greenlight-a');
    await leaderOf(namespace, [a]);
    expect(await a.elector.release()).toBe(true);
    await a.running;
    expect(await readLease(namespace)).toMatchObject({ holder: '', durationSeconds: 1, transitions: 0 });
    // Released for good: it does not take the free lease back.
    expect(await a.elector.release()).toBe(false);
    expect(a.events).toEqual(['started', 'stopped']);
  });

  it('lets a standby take over after the lease duration when the leader stops renewing without releasing', async (context) => {
    const namespace = await createTestNamespace('leader-crash');
    const a = candidate(context, namespace, 'greenlight-a');
    await leaderOf(namespace, [a]);
    const b = candidate(context, namespace, 'greenlight-b');
    await eventually(() => {
      expect(b.leadersSeen).toEqual(['greenlight-a']);
      return Promise.resolve();
    });

    const crashedAt = Date.now();
    await a.crash();
    expect(a.events).toEqual(['started', 'stopped']);
    expect((await readLease(namespace)).holder).toBe('greenlight-a');

    await leaderOf(namespace, [b]);
    // The last renewal b saw was at most one retry period before the crash; it then waited it out.
    expect(Date.now() - crashedAt).toBeGreaterThan(LEASE_DURATION_MS - 2 * RETRY_PERIOD_MS);
    expect(await readLease(namespace)).toMatchObject({ holder: 'greenlight-b', transitions: 1 });
  });

  it('stops leading as soon as it sees its lease written by someone else', async (context) => {
    const namespace = await createTestNamespace('leader-taken');
    const a = candidate(context, namespace, 'greenlight-a');
    await leaderOf(namespace, [a]);

    await eventually(async () => {
      const lease = await admin().readNamespacedLease({ namespace, name: LEASE });
      lease.spec = {
        holderIdentity: 'intruder',
        leaseDurationSeconds: 30,
        acquireTime: microTime(Date.now()),
        renewTime: microTime(Date.now()),
        leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + 1,
      };
      await admin().replaceNamespacedLease({ namespace, name: LEASE, body: lease });
    });

    await eventually(
      () => {
        expect(a.events).toEqual(['started', 'stopped']);
        return Promise.resolve();
      },
      { intervalMs: 20 },
    );
    expect(a.elector.isLeader).toBe(false);
    expect(a.leadersSeen).toEqual(['greenlight-a', 'intruder']);
    expect((await readLease(namespace)).holder).toBe('intruder');
  });

  it('stops leading when renewals fail for the renew deadline, before others may take the lease', async (context) => {
    const namespace = await createTestNamespace('leader-revoked');
    const rbac = kubeConfigAs('admin').makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: 'lease-holder' },
        rules: [
          { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
        ],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'lease-holder' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'lease-holder' },
        subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'carol' }],
      },
    });
    const a = candidate(context, namespace, 'greenlight-a', kubeConfigAs('carol'));
    await leaderOf(namespace, [a]);

    await rbac.deleteNamespacedRoleBinding({ namespace, name: 'lease-holder' });
    await eventually(
      () => {
        expect(a.events).toEqual(['started', 'stopped']);
        return Promise.resolve();
      },
      { intervalMs: 20 },
    );

    const lastRenewal = epochMsOf((await readLease(namespace)).renewTime) ?? Number.NaN;
    const [stoppedAt = Number.NaN] = a.stoppedAt;
    // It kept trying through the failures, and gave up before the lease could expire for others.
    expect(stoppedAt - lastRenewal).toBeGreaterThan(RENEW_DEADLINE_MS - 2 * RETRY_PERIOD_MS);
    expect(stoppedAt - lastRenewal).toBeLessThan(LEASE_DURATION_MS);
    expect(a.errors.some((error) => statusCodeOf(error) === 403)).toBe(true);
  });
});
