import { spawn, type ChildProcess } from 'node:child_process';
import { expect } from 'vitest';
import { freeLoopbackPort } from '../../src/local-cluster/ports.ts';
import { CLI } from './cli.ts';
import { cluster } from './cluster.ts';
import { eventually } from './eventually.ts';

/** `greenlight controller` as the container runs it: a process of its own, with probes and metrics. */
export interface ControllerProcess {
  readonly child: ChildProcess;
  /** `127.0.0.1:PORT` serving /metrics, as a scrape target. */
  readonly metricsAddress: string;
  readonly metricsUrl: string;
  readonly probesUrl: string;
  readonly logs: string[];
  readonly exited: Promise<number | null>;
}

const started: ControllerProcess[] = [];

/** SIGKILLs every process this file started (for afterAll). */
export function killControllerProcesses(): void {
  for (const process of started) process.child.kill('SIGKILL');
}

/**
 * Starts `greenlight controller --namespace=NAMESPACE` as the admin, with metrics and probes on free
 * loopback ports and JSON logs, and waits until it answers /healthz. `extra` are more flags, `env`
 * more environment (SLACK_BOT_TOKEN and the like). The caller stops it (SIGTERM, or SIGKILL).
 */
export async function startControllerProcess(
  namespace: string,
  extra: readonly string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<ControllerProcess> {
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
    {
      env: { ...process.env, KUBECONFIG: cluster().kubeconfigs.admin, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const logs: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => logs.push(...chunk.toString().split('\n').filter(Boolean)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const controller = {
    child,
    metricsAddress: `127.0.0.1:${metricsPort}`,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    probesUrl: `http://127.0.0.1:${probesPort}`,
    logs,
    exited,
  };
  started.push(controller);
  // Starting a Node process is the slow part on a loaded machine: wait for it generously, once.
  await eventually(
    async () => {
      expect((await fetch(`${controller.probesUrl}/healthz`)).status).toBe(200);
    },
    { timeoutMs: 60_000 },
  );
  return controller;
}

export async function metricsOf(controller: ControllerProcess): Promise<string> {
  return (await fetch(controller.metricsUrl)).text();
}

/** Leader election flags with short timings: a standby takes over about three seconds after a crash. */
export function fastElection(namespace: string): string[] {
  return [
    '--leader-elect',
    `--leader-election-namespace=${namespace}`,
    '--leader-election-id=greenlight',
    '--leader-elect-lease-duration=3s',
    '--leader-elect-renew-deadline=2s',
    '--leader-elect-retry-period=500ms',
  ];
}

/** Waits until exactly one of the processes leads; returns [leader, standby]. */
export async function electedAmong(
  candidates: readonly [ControllerProcess, ControllerProcess],
): Promise<[ControllerProcess, ControllerProcess]> {
  const leading = async (controller: ControllerProcess): Promise<boolean> =>
    (await metricsOf(controller)).includes('leader_election_master_status{name="greenlight"} 1');
  return eventually(async () => {
    const states = await Promise.all(candidates.map(leading));
    expect(states.filter(Boolean)).toHaveLength(1);
    return states[0] ? [candidates[0], candidates[1]] : [candidates[1], candidates[0]];
  });
}
