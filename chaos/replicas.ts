import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { freeLoopbackPort } from '../src/local-cluster/ports.ts';
import { CLI_ENTRY } from './paths.ts';

export const LEASE = 'greenlight';
/** Short timings, so a takeover happens within seconds: others wait 3 s after the last renewal. */
export const LEASE_DURATION_MS = 3_000;
const RENEW_DEADLINE_MS = 2_000;
const RETRY_PERIOD_MS = 500;
/** Like a kubelet restarting a crashed container (without its growing back-off). */
const RESTART_DELAY_MS = 1_000;

export interface ReplicaSettings {
  readonly namespace: string;
  readonly kubeconfig: string;
  readonly env: NodeJS.ProcessEnv;
  readonly logDir: string;
}

/** How one incarnation of a replica ended. */
export interface Exit {
  readonly replica: number;
  readonly identity: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Whether the chaos suite killed it (SIGKILL) or stopped it (SIGTERM at the end). */
  readonly killed: boolean;
  /** Whether it said it lost the lease before it ended (then it exits 1, by design). */
  readonly lostLease: boolean;
  /** How many writes its fence refused after the lease was lost (log lines). */
  readonly fenced: number;
}

/**
 * One replica of `greenlight controller --leader-elect`, as a Deployment runs it: a process that is
 * started again a second after it ends, on the same ports, with a new identity each time.
 */
export class Replica {
  readonly index: number;
  readonly #settings: ReplicaSettings;
  readonly #ports: { readonly metrics: number; readonly probes: number; readonly slack: number };
  readonly #log: WriteStream;
  readonly exits: Exit[] = [];
  /** Watch resumes the API server refused with 410 Gone, each followed by a new list, over all incarnations (log lines). */
  watchesExpired = 0;
  #child: ChildProcess | undefined;
  #killing = false;
  #stopping = false;
  #restartTimer: NodeJS.Timeout | undefined;

  private constructor(index: number, settings: ReplicaSettings, ports: Replica['ports']) {
    this.index = index;
    this.#settings = settings;
    this.#ports = ports;
    this.#log = createWriteStream(join(settings.logDir, `controller-${index}.log`), { flags: 'a' });
  }

  static async start(index: number, settings: ReplicaSettings): Promise<Replica> {
    const ports = {
      metrics: await freeLoopbackPort(),
      probes: await freeLoopbackPort(),
      slack: await freeLoopbackPort(),
    };
    const replica = new Replica(index, settings, ports);
    replica.#spawn();
    return replica;
  }

  get ports(): { readonly metrics: number; readonly probes: number; readonly slack: number } {
    return this.#ports;
  }

  get slackUrl(): string {
    return `http://127.0.0.1:${this.#ports.slack}/slack/events`;
  }

  /** SIGKILL (a crash; it is started again), SIGSTOP / SIGCONT (a stall). */
  signal(signal: NodeJS.Signals): void {
    if (signal === 'SIGKILL') this.#killing = true;
    this.#child?.kill(signal);
  }

  /** Whether this replica's current process says it leads (its metrics). */
  async leading(): Promise<boolean> {
    const text = await this.metrics();
    return text?.includes(`leader_election_master_status{name="${LEASE}"} 1`) ?? false;
  }

  /** The current process's /metrics, or undefined when it does not answer. */
  async metrics(): Promise<string | undefined> {
    try {
      const response = await fetch(`http://127.0.0.1:${this.#ports.metrics}/metrics`, {
        signal: AbortSignal.timeout(2_000),
      });
      return response.ok ? await response.text() : undefined;
    } catch {
      return undefined;
    }
  }

  /** Stops for good: SIGTERM, and SIGKILL if it has not ended within 20 s. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#restartTimer);
    const child = this.#child;
    if (child?.exitCode === null && child.signalCode === null) {
      const ended = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await ended;
      clearTimeout(timer);
    }
    await new Promise((resolve) => this.#log.end(resolve));
  }

  #spawn(): void {
    const { namespace, kubeconfig, env } = this.#settings;
    const child = spawn(
      process.execPath,
      [
        CLI_ENTRY,
        'controller',
        `--namespace=${namespace}`,
        `--metrics-bind-address=127.0.0.1:${this.#ports.metrics}`,
        `--health-probe-bind-address=127.0.0.1:${this.#ports.probes}`,
        `--slack-bind-address=127.0.0.1:${this.#ports.slack}`,
        '--log-format=json',
        '--leader-elect',
        `--leader-election-namespace=${namespace}`,
        `--leader-election-id=${LEASE}`,
        `--leader-elect-lease-duration=${LEASE_DURATION_MS}ms`,
        `--leader-elect-renew-deadline=${RENEW_DEADLINE_MS}ms`,
        `--leader-elect-retry-period=${RETRY_PERIOD_MS}ms`,
      ],
      { env: { ...process.env, ...env, KUBECONFIG: kubeconfig }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.#child = child;
    this.#killing = false;
    let identity = '';
    let pending = '';
    let lostLease = false;
    let fenced = 0;
    child.stderr.on('data', (chunk: Buffer) => {
      this.#log.write(chunk);
      const text = chunk.toString();
      if (text.includes('Lost the leader lease')) lostLease = true;
      fenced += fencedWritesIn(text);
      this.watchesExpired += text.split('Watch could not resume (410 Gone)').length - 1;
      if (identity !== '') return;
      pending += text;
      const found = /"identity":"([^"]+)"/.exec(pending);
      if (found?.[1]) {
        identity = found[1];
        pending = '';
      }
    });
    child.once('exit', (code, signal) => {
      this.exits.push({
        replica: this.index,
        identity,
        code,
        signal,
        killed: this.#killing || this.#stopping,
        lostLease,
        fenced,
      });
      if (this.#stopping) return;
      this.#restartTimer = setTimeout(() => {
        this.#spawn();
      }, RESTART_DELAY_MS);
    });
  }
}

/**
 * How many writes a controller's log says its fence refused: one per "no longer the leader", except
 * the queued Events it drops together, logged once with their number.
 */
export function fencedWritesIn(text: string): number {
  let count = 0;
  for (const [, events] of text.matchAll(
    /(?:(\d+) event\(s\) not recorded: this process is )?no longer the leader/g,
  ))
    count += events === undefined ? 1 : Number(events);
  return count;
}

/** Waits until exactly one replica leads; resolves with it. */
export async function leaderAmong(replicas: readonly Replica[], timeoutMs = 60_000): Promise<Replica> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await Promise.all(replicas.map((replica) => replica.leading()));
    const leaders = replicas.filter((_, index) => states[index]);
    const [leader] = leaders;
    if (leaders.length === 1 && leader) return leader;
    if (Date.now() > deadline)
      throw new Error(`no single leader among the replicas within ${timeoutMs / 1000}s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
