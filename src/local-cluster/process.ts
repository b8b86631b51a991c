import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { basename } from 'node:path';
import { promisify } from 'node:util';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { LocalClusterError } from '../errors.ts';

const GRACE_SECONDS = 15;

/**
 * Runs the binary under a tiny bash supervisor that holds our end of a pipe on its stdin. When this
 * process closes the pipe (stop) or dies for any reason (even SIGKILL), the pipe closes and the
 * supervisor sends SIGTERM to the binary, then SIGKILL after a grace period: a crashed test run never
 * leaves etcd or kube-apiserver behind. Once the binary has exited, the supervisor removes
 * $GREENLIGHT_CLEANUP (etcd's data on tmpfs would otherwise hold memory).
 */
const supervisor = `
exec 3<&0
"$@" 3<&- </dev/null &
child=$!
{ cat <&3 >/dev/null; kill -TERM "$child" 2>/dev/null; sleep ${GRACE_SECONDS}; kill -KILL "$child" 2>/dev/null; } </dev/null &
watcher=$!
wait "$child"
status=$?
kill "$watcher" 2>/dev/null
[ -z "$GREENLIGHT_CLEANUP" ] || rm -rf "$GREENLIGHT_CLEANUP"
exit $status
`;

export interface ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  /** Resolves with the exit code (or signal) once the process has ended. */
  readonly exited: Promise<string>;
  hasExited(): boolean;
  /** Asks the process to terminate and waits up to `timeoutMs` before killing it. */
  stop(timeoutMs?: number): Promise<void>;
  /** The last lines the process wrote, for error messages. */
  tail(lines?: number): string;
  /**
   * Sends `signal` to the binary itself, not its supervisor (fault injection: SIGKILL a crash,
   * SIGSTOP a stall). After a SIGKILL the supervisor exits too and `exited` resolves.
   */
  signal(signal: NodeJS.Signals): Promise<void>;
}

export interface ProcessOptions {
  readonly logFile: string;
  /** A path removed once the process has exited, however this process ends. */
  readonly cleanup?: string;
}

export function startProcess(
  name: string,
  binary: string,
  args: readonly string[],
  options: ProcessOptions,
): ManagedProcess {
  const { logFile } = options;
  const log = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn('bash', ['-c', supervisor, name, binary, ...args], {
      stdio: ['pipe', log, log],
      env: { ...process.env, GREENLIGHT_CLEANUP: options.cleanup ?? '' },
    });
  } finally {
    closeSync(log);
  }
  let done = false;
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve(signal ?? `exit code ${code ?? 'unknown'}`);
    });
    child.once('error', (error) => {
      done = true;
      resolve(`failed to start: ${error.message}`);
    });
  });
  const tail = (lines = 20): string => {
    try {
      return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  };
  const command = basename(binary).slice(0, 15); // the kernel keeps 15 characters of a process name
  return {
    name,
    logFile,
    exited,
    hasExited: () => done,
    tail,
    async signal(signal: NodeJS.Signals): Promise<void> {
      if (done || child.pid === undefined) return;
      await promisify(execFile)('pkill', [
        `--signal=${signal}`,
        '--parent',
        String(child.pid),
        '--exact',
        command,
      ]);
    },
    async stop(timeoutMs = (GRACE_SECONDS + 5) * 1000): Promise<void> {
      if (done) return;
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `probe` until it returns true; fails early if the process dies, with its last log lines. */
export async function waitUntilReady(
  process: ManagedProcess,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 50;
  while (Date.now() < deadline) {
    if (process.hasExited()) {
      throw new LocalClusterError(
        `${process.name} exited during start-up (${await process.exited}). Last lines of ${process.logFile}:\n${process.tail()}`,
      );
    }
    if (await probe().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 500);
  }
  throw new LocalClusterError(
    `${process.name} was not ready within ${timeoutMs / 1000}s. Last lines of ${process.logFile}:\n${process.tail()}`,
  );
}
