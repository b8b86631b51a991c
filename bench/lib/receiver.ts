/**
 * The stand-in automation server (bench/receiver, Go, standard library only) as a child process: decision
 * webhooks are POSTed to it, it verifies every delivery's Standard Webhooks signature (204 when it
 * holds, 401 when not), counts them by the URL's last path segment and keeps one in 20 whole, and
 * answers its counts on GET /counts. hack/build-tools.sh builds it into the tool cache (cached by Go
 * release and source digest).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { cpuSeconds } from './cluster.ts';
import { buildTool } from './peer.ts';

export const RECEIVER_TOOL = 'greenlight-receiver';

/** One delivery as it arrived: its body and its webhook-id, -timestamp and -signature headers. */
export interface KeptDelivery {
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface SegmentCounts {
  /** Deliveries whose signature held (answered 204). */
  readonly delivered: number;
  /** Deliveries whose signature did not (answered 401). */
  readonly invalid: number;
  /** Deliveries kept whole since the last read (one in 20 of the segment's). */
  readonly kept: readonly KeptDelivery[];
}

export interface ReceiverCounts {
  /** Connections that carried at least one delivery so far. */
  readonly connections: number;
  /** By the last path segment of the URL the deliveries were POSTed to. */
  readonly segments: Readonly<Record<string, SegmentCounts>>;
}

export interface Receiver {
  /** Where to POST: `<url>/<segment>`. */
  readonly url: string;
  readonly pid: number;
  /** The counts so far; the kept deliveries are handed out once (the receiver forgets them). */
  counts(): Promise<ReceiverCounts>;
  /** The receiver's user + system CPU seconds so far (undefined once it has exited). */
  cpuSeconds(): number | undefined;
  /** Stops it and waits until it has exited. */
  stop(): Promise<void>;
}

/** Builds the receiver when its source changed (or was never built) and returns the binary's path. */
export async function buildReceiver(progress: (line: string) => void): Promise<string> {
  progress('building the stand-in automation server (bench/receiver) with hack/build-tools.sh');
  return buildTool(RECEIVER_TOOL);
}

/**
 * Starts the receiver with this signing secret (`whsec_…`, in its environment, not on its command
 * line) on a free loopback port. It exits when its stdin closes: it never outlives this process.
 *
 * It runs with GOMAXPROCS=1, as in a container limited to one CPU (Go sizes GOMAXPROCS by the cgroup's
 * limit). Deliveries arrive a few milliseconds apart, so each one wakes the receiver from idle; with a
 * P per core the Go scheduler also wakes and spins a second thread, which measured about 40 % more CPU
 * per delivery here (0.20 against 0.145 ms at 200 deliveries/s, loopback, this 2-vCPU machine).
 */
export async function startReceiver(binary: string, secret: string): Promise<Receiver> {
  const child = spawn(binary, ['-exit-on-eof'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, GOMAXPROCS: '1', GREENLIGHT_RECEIVER_SECRET: secret },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4096);
  });
  const exited = once(child, 'exit').then(([code, signal]) => String(signal ?? `exit code ${String(code)}`));
  const lines = createInterface({ input: child.stdout });
  const first = once(lines, 'line').then(([line]) => String(line));
  const started = await Promise.race([
    first,
    exited.then((how) => Promise.reject(new Error(`${RECEIVER_TOOL} exited at start (${how}): ${stderr}`))),
  ]).finally(() => {
    lines.close();
  });
  const pid = child.pid;
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(started) || pid === undefined) {
    child.kill('SIGKILL');
    throw new Error(`${RECEIVER_TOOL} said ${JSON.stringify(started)}, not its address: ${stderr}`);
  }
  return {
    url: `${started}/greenlight`,
    pid,
    async counts(): Promise<ReceiverCounts> {
      const response = await fetch(`${started}/counts`);
      if (!response.ok) throw new Error(`${RECEIVER_TOOL}: GET /counts answered ${response.status}`);
      return (await response.json()) as ReceiverCounts;
    },
    cpuSeconds: () => cpuSeconds(pid),
    async stop(): Promise<void> {
      child.stdin.end();
      child.kill('SIGTERM');
      await exited;
    },
  };
}
