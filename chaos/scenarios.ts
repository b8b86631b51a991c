import type { ChaosCluster, Workspace } from './world.ts';
import { APPROVAL_REQUEST_PLURAL } from '../src/api/v1alpha1/approval-request.ts';
import type { TcpProxy } from './proxy.ts';
import { apiserverAnswers, flood, meddle, starve } from './refusals.ts';
import { integerBetween, type Random } from './random.ts';
import { leaderAmong, LEASE_DURATION_MS } from './replicas.ts';

/** One injected fault: when it began and when it was over (the same instant for a kill). */
export interface Fault {
  readonly what: string;
  readonly at: number;
  readonly endedAt: number;
}

export interface ScenarioContext {
  readonly cluster: ChaosCluster;
  readonly workspace: Workspace;
  readonly random: Random;
  readonly quick: boolean;
  /** Set for scenarios that run the controllers through the proxy. */
  readonly proxy?: TcpProxy;
  readonly faults: Fault[];
  /** Requests not decided yet, by name. */
  readonly undecided: () => readonly string[];
  /** Figures for the report, one line each. */
  readonly notes: string[];
  /** Progress for people watching. */
  readonly say: (line: string) => void;
}

export interface Scenario {
  readonly name: string;
  /** The faults, in words, for the table. */
  readonly describe: (quick: boolean) => string;
  /** Requests created per second while the faults are injected. */
  readonly rate: (quick: boolean) => number;
  /** Whether the controllers reach the API server through the TCP proxy. */
  readonly viaProxy?: boolean;
  /** Whether the controllers run as a ServiceAccount (which API Priority and Fairness does not exempt). */
  readonly asServiceAccount?: boolean;
  /** Whether Slack's recovery (the first post after the fault) is what "recovered" means. */
  readonly recoversInSlack?: boolean;
  /** Count the time to recover from the fault's start (a stall), not its end. */
  readonly recoveryFromStart?: boolean;
  readonly inject: (context: ScenarioContext) => Promise<void>;
}

/** "1 time", "3 times". */
const times = (count: number): string => `${count} time${count === 1 ? '' : 's'}`;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function repeat(
  times: number,
  gapMs: () => number,
  fault: (round: number) => Promise<void>,
): Promise<void> {
  for (let round = 0; round < times; round++) {
    await pause(gapMs());
    await fault(round);
  }
}

const leaderKill: Scenario = {
  name: 'leader-kill',
  describe: (quick) => `the leader SIGKILLed ${times(quick ? 3 : 20)} (2 replicas, leader election)`,
  rate: (quick) => (quick ? 20 : 100),
  inject: ({ workspace, random, quick, faults, say }) =>
    repeat(
      quick ? 3 : 20,
      () => integerBetween(random, 4_000, 8_000),
      async (round) => {
        const leader = await leaderAmong(workspace.replicas);
        const at = Date.now();
        leader.signal('SIGKILL');
        faults.push({ what: 'leader SIGKILL', at, endedAt: at });
        say(`  killed the leader (replica ${leader.index}), ${round + 1}`);
      },
    ),
};

function controlPlaneKill(component: 'kube-apiserver' | 'etcd'): Scenario {
  const kills = (quick: boolean): number => (component === 'etcd' ? (quick ? 1 : 5) : quick ? 1 : 10);
  const downMs = (random: Random, quick: boolean): number =>
    quick ? integerBetween(random, 1_000, 3_000) : integerBetween(random, 2_000, 10_000);
  return {
    name: `${component === 'etcd' ? 'etcd' : 'apiserver'}-kill`,
    describe: (quick) =>
      `${component} SIGKILLed and started again ${times(kills(quick))}, down ${quick ? '1–3' : '2–10'} s each, while requests arrive and people answer`,
    rate: (quick) => (quick ? 20 : 50),
    inject: ({ cluster, random, quick, faults, say }) =>
      repeat(
        kills(quick),
        () => integerBetween(random, 6_000, 12_000),
        async (round) => {
          const at = Date.now();
          await cluster.local.restart(component, { downMs: downMs(random, quick) });
          faults.push({ what: `${component} SIGKILL`, at, endedAt: Date.now() });
          say(
            `  ${component} killed and back after ${((Date.now() - at) / 1000).toFixed(1)} s, ${round + 1}`,
          );
        },
      ),
  };
}

const silentWatch: Scenario = {
  name: 'silent-watch',
  describe: (quick) =>
    `every connection from the controllers to the API server goes silent without closing (a TCP proxy stops forwarding), ${times(quick ? 1 : 3)}`,
  rate: (quick) => (quick ? 20 : 50),
  viaProxy: true,
  inject: ({ proxy, random, quick, faults, say }) =>
    repeat(
      quick ? 1 : 3,
      () => integerBetween(random, 5_000, 10_000),
      async () => {
        if (proxy === undefined) throw new Error('silent-watch runs through the proxy');
        const at = Date.now();
        const silenced = proxy.silence();
        faults.push({ what: 'connections silenced', at, endedAt: at });
        say(`  silenced ${silenced} connections`);
        // Long enough for the controllers to notice (their watches' inactivity timeout is 30 s); a quick
        // run leaves the rest to the settling that ends every scenario.
        await pause(quick ? 15_000 : 40_000);
      },
    ),
};

const staleLeader: Scenario = {
  name: 'stale-leader',
  describe: (quick) =>
    `the leader SIGSTOPped past its lease until the other replica leads, then SIGCONTed, ${times(quick ? 2 : 5)}`,
  rate: (quick) => (quick ? 20 : 50),
  recoveryFromStart: true,
  inject: ({ workspace, random, quick, faults, say }) =>
    repeat(
      quick ? 2 : 5,
      () => integerBetween(random, 4_000, 8_000),
      async () => {
        const leader = await leaderAmong(workspace.replicas);
        const at = Date.now();
        leader.signal('SIGSTOP');
        const others = workspace.replicas.filter((replica) => replica !== leader);
        const successor = await leaderAmong(others, 60_000);
        // A little longer, so the new leader is deciding when the old one wakes up.
        await pause(LEASE_DURATION_MS);
        leader.signal('SIGCONT');
        faults.push({ what: 'leader SIGSTOP past its lease', at, endedAt: Date.now() });
        say(
          `  replica ${leader.index} stopped, replica ${successor.index} took over, ${leader.index} continued`,
        );
      },
    ),
};

const slackFaults: Scenario = {
  name: 'slack-faults',
  describe: (quick) =>
    `Slack: a 429 storm, 500s, answers lost after Slack posted, a ${quick ? '10-second' : '5-minute'} outage; the webhook receiver answering 503 for ${quick ? 10 : 60} s`,
  rate: (quick) => (quick ? 20 : 50),
  recoversInSlack: true,
  inject: async ({ workspace, quick, faults, say }) => {
    const { slack, receiver } = workspace;
    const window = async (what: string, ms: number, on: () => void, off: () => void): Promise<void> => {
      const at = Date.now();
      on();
      await pause(ms);
      off();
      faults.push({ what, at, endedAt: Date.now() });
      say(`  ${what} for ${ms / 1000} s`);
    };
    await pause(3_000);
    await window(
      '429 storm',
      quick ? 3_000 : 20_000,
      () => {
        slack.failNext('*', { ratelimited: 2 }, quick ? 20 : 100);
      },
      () => {
        slack.resetFaults();
      },
    );
    await window(
      '500s',
      quick ? 3_000 : 20_000,
      () => {
        slack.failNext('*', 'http500', quick ? 10 : 50);
      },
      () => {
        slack.resetFaults();
      },
    );
    await window(
      'answers lost after posting',
      quick ? 3_000 : 20_000,
      () => {
        slack.failNext('chat.postMessage', 'lost-answer', quick ? 3 : 10);
      },
      () => undefined,
    );
    await window(
      'outage',
      quick ? 10_000 : 300_000,
      () => {
        slack.setOutage(true);
      },
      () => {
        slack.setOutage(false);
      },
    );
    await window(
      'webhook receiver 503',
      quick ? 10_000 : 60_000,
      () => {
        receiver.failing = true;
      },
      () => {
        receiver.failing = false;
      },
    );
  },
};

const apiRefusals: Scenario = {
  name: 'api-refusals',
  describe: (quick) =>
    `the API server's own refusals: another client writing the requests being decided (409 Conflict) for ${quick ? 10 : 60} s, then the controllers' ServiceAccount starved by API Priority and Fairness, a noisy client in its flow (429), for ${quick ? 10 : 60} s, then the watch history compacted while kube-apiserver restarts (410 Gone on every watch resume)`,
  rate: (quick) => (quick ? 20 : 50),
  asServiceAccount: true,
  inject: async ({ cluster, workspace, random, quick, faults, notes, undecided, say }) => {
    const windowMs = quick ? 10_000 : 60_000;
    await pause(2_000);
    const conflictsBefore = await apiserverAnswers(cluster, 409, APPROVAL_REQUEST_PLURAL);
    let at = Date.now();
    const meddler = meddle(cluster.admin, workspace.namespace, undecided, random);
    await pause(windowMs);
    await meddler.stop();
    faults.push({ what: 'concurrent writes', at, endedAt: Date.now() });
    const conflicts = (await apiserverAnswers(cluster, 409, APPROVAL_REQUEST_PLURAL)) - conflictsBefore;
    notes.push(
      `${meddler.writes()} writes by another client; the API server answered 409 Conflict ${conflicts} times`,
    );
    say(`  ${meddler.writes()} meddling writes, ${conflicts} conflicts`);

    const throttledBefore = await apiserverAnswers(cluster, 429);
    at = Date.now();
    const undo = await starve(cluster.admin);
    const stopFlood = flood(workspace.kubeconfig, workspace.namespace, 16);
    await pause(windowMs);
    await stopFlood();
    await undo();
    faults.push({ what: 'APF starvation', at, endedAt: Date.now() });
    const throttled = (await apiserverAnswers(cluster, 429)) - throttledBefore;
    notes.push(`the API server answered 429 Too Many Requests ${throttled} times`);
    say(`  starved for ${windowMs / 1000} s: ${throttled} answers 429`);

    // Every watch breaks and resumes from a version etcd no longer holds: 410 Gone, list again.
    await pause(windowMs / 2);
    at = Date.now();
    const revision = await cluster.local.compactEtcd();
    await cluster.local.restart('kube-apiserver');
    faults.push({ what: 'history compacted', at, endedAt: Date.now() });
    say(`  etcd compacted to revision ${revision}; kube-apiserver restarted`);
  },
};

export const SCENARIOS: readonly Scenario[] = [
  leaderKill,
  controlPlaneKill('kube-apiserver'),
  controlPlaneKill('etcd'),
  silentWatch,
  staleLeader,
  slackFaults,
  apiRefusals,
];
