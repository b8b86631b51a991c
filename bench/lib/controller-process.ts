/**
 * `greenlight controller` as a real child process (as the container runs it), under the local
 * cluster's supervisor so that it dies with the benchmark however the benchmark ends.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { freeLoopbackPort } from '../../src/local-cluster/ports.ts';
import { startProcess, type ManagedProcess } from '../../src/local-cluster/process.ts';
import { cpuSeconds, findPid, residentMemory } from './cluster.ts';

export interface ControllerOptions {
  /** Names the log file (and the CPU profile). */
  readonly label: string;
  /** src/cli/main.ts, or main.js of a build (what the container runs). */
  readonly entry: string;
  /**
   * Run this binary instead of Greenlight: the Go peer (bench/peer), which takes the same
   * --kubeconfig, --namespace, address and --concurrency flags; node flags and Slack do not apply.
   */
  readonly binary?: string | undefined;
  readonly namespace: string;
  readonly kubeconfig: string;
  readonly logDir: string;
  readonly concurrency?: number | undefined;
  /** NODE_OPTIONS of the process (the container image's: see imageNodeOptions in build.ts). */
  readonly nodeOptions?: string | undefined;
  /** Where SIGUSR2 makes the controller write heap snapshots (node --heapsnapshot-signal). */
  readonly heapSnapshotDir?: string | undefined;
  /** More node flags. */
  readonly nodeFlags?: readonly string[] | undefined;
  /** Write a V8 CPU profile of the whole run into this folder (node --cpu-prof). */
  readonly cpuProfileDir?: string | undefined;
  /** Extra environment (Slack); set only while the process is spawned. */
  readonly env?: Readonly<Record<string, string>> | undefined;
}

export interface MemorySample {
  readonly rssBytes: number;
  readonly peakRssBytes: number;
  readonly heapUsedBytes: number;
  readonly heapTotalBytes: number;
}

/** One Prometheus sample value: the first series of `name` whose labels contain `labels`. */
export function metricValue(text: string, name: string, labels = ''): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!(rest.startsWith(' ') || rest.startsWith('{'))) continue;
    if (labels && !rest.includes(labels)) continue;
    const value = Number(rest.slice(rest.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) return value;
  }
  return undefined;
}

export class ControllerProcess {
  readonly label: string;
  /** performance.now() when it was spawned. */
  readonly spawnedAt: number;
  readonly logFile: string;
  readonly #process: ManagedProcess;
  readonly #metricsUrl: string;
  readonly #probesUrl: string;
  readonly #metricsArgument: string;
  #pid: number | undefined;

  private constructor(options: {
    label: string;
    process: ManagedProcess;
    spawnedAt: number;
    metricsPort: number;
    probesPort: number;
    logFile: string;
  }) {
    this.label = options.label;
    this.#process = options.process;
    this.spawnedAt = options.spawnedAt;
    this.logFile = options.logFile;
    this.#metricsUrl = `http://127.0.0.1:${options.metricsPort}/metrics`;
    this.#probesUrl = `http://127.0.0.1:${options.probesPort}`;
    this.#metricsArgument = `--metrics-bind-address=127.0.0.1:${options.metricsPort}`;
  }

  static async start(options: ControllerOptions): Promise<ControllerProcess> {
    const [metricsPort, probesPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
    const nodeFlags = [
      ...(options.nodeFlags ?? []),
      ...(options.heapSnapshotDir
        ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${options.heapSnapshotDir}`]
        : []),
      ...(options.cpuProfileDir
        ? [
            '--cpu-prof',
            `--cpu-prof-dir=${options.cpuProfileDir}`,
            `--cpu-prof-name=${options.label}.cpuprofile`,
          ]
        : []),
    ];
    const common = [
      `--kubeconfig=${options.kubeconfig}`,
      `--namespace=${options.namespace}`,
      `--metrics-bind-address=127.0.0.1:${metricsPort}`,
      `--health-probe-bind-address=127.0.0.1:${probesPort}`,
      ...(options.concurrency === undefined ? [] : [`--concurrency=${options.concurrency}`]),
    ];
    const [command, args] =
      options.binary === undefined
        ? [process.execPath, [...nodeFlags, options.entry, 'controller', ...common, '--slack-bind-address=0']]
        : [options.binary, common];
    const logFile = join(options.logDir, `controller-${options.label}.log`);
    // NODE_OPTIONS always set (empty when none), so that the benchmark's own never leaks through.
    const env = { ...options.env, NODE_OPTIONS: options.nodeOptions ?? '' };
    const saved = new Map(Object.keys(env).map((key) => [key, process.env[key]]));
    Object.assign(process.env, env);
    const spawnedAt = performance.now();
    let managed: ManagedProcess;
    try {
      managed = startProcess(`greenlight-controller-${options.label}`, command, args, { logFile });
    } finally {
      for (const [key, value] of saved) {
        if (value === undefined) Reflect.deleteProperty(process.env, key);
        else process.env[key] = value;
      }
    }
    return new ControllerProcess({
      label: options.label,
      process: managed,
      spawnedAt,
      metricsPort,
      probesPort,
      logFile,
    });
  }

  /** The node process itself (not its supervisor), found by its unique metrics address. */
  get pid(): number | undefined {
    this.#pid ??= findPid(this.#metricsArgument);
    return this.#pid;
  }

  cpuSeconds(): number | undefined {
    return cpuSeconds(this.pid);
  }

  /** Polls /readyz (every 20 ms) and returns how long after the spawn it first answered 200. */
  async waitReady(timeoutMs: number): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      if (this.#process.hasExited()) {
        throw new Error(`the controller exited (${await this.#process.exited}):\n${this.#process.tail()}`);
      }
      const status = await fetch(`${this.#probesUrl}/readyz`).then(
        (response) => response.status,
        () => 0,
      );
      if (status === 200) return performance.now() - this.spawnedAt;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`the controller was not ready within ${timeoutMs / 1000}s:\n${this.#process.tail()}`);
  }

  async metrics(): Promise<string> {
    return (await fetch(this.#metricsUrl)).text();
  }

  /** Waits until the request work queue is empty and nothing is being reconciled. */
  async waitIdle(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const text = await this.metrics().catch(() => '');
      const depth = metricValue(text, 'workqueue_depth', 'name="approvalrequest"');
      if (depth === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`the controller's work queue did not drain within ${timeoutMs / 1000}s`);
  }

  /** RSS and peak RSS from /proc, heap from the controller's own process metrics. */
  async memory(): Promise<MemorySample> {
    const text = await this.metrics();
    const pid = this.pid;
    const resident = pid === undefined ? undefined : residentMemory(pid);
    return {
      rssBytes: resident?.rss ?? metricValue(text, 'process_resident_memory_bytes') ?? Number.NaN,
      peakRssBytes: resident?.peak ?? Number.NaN,
      // Node's heap, or the Go peer's (client_golang's runtime metrics).
      heapUsedBytes:
        metricValue(text, 'nodejs_heap_size_used_bytes') ??
        metricValue(text, 'go_memstats_heap_alloc_bytes') ??
        Number.NaN,
      heapTotalBytes:
        metricValue(text, 'nodejs_heap_size_total_bytes') ??
        metricValue(text, 'go_memstats_heap_sys_bytes') ??
        Number.NaN,
    };
  }

  /**
   * Asks for a heap snapshot (SIGUSR2; V8 collects garbage first) and returns its file once written.
   * Only for a process started with `heapSnapshotDir`.
   */
  async heapSnapshot(directory: string): Promise<string> {
    const pid = this.pid;
    if (pid === undefined) throw new Error('the controller process is gone');
    const before = new Set(readdirSync(directory));
    process.kill(pid, 'SIGUSR2');
    const deadline = performance.now() + 5 * 60_000;
    let lastSize = -1;
    while (performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const file = readdirSync(directory).find((name) => name.endsWith('.heapsnapshot') && !before.has(name));
      if (!file) continue;
      const size = statSync(join(directory, file)).size;
      // The process writes the snapshot synchronously; it answers /metrics again once done.
      const answering = await this.metrics().then(
        () => true,
        () => false,
      );
      if (size > 0 && size === lastSize && answering) return join(directory, file);
      lastSize = size;
    }
    throw new Error('no heap snapshot within 5 minutes');
  }

  /** SIGTERM (graceful: in-flight work finishes, the CPU profile is written), then waits for the exit. */
  async stop(): Promise<void> {
    await this.#process.stop();
  }
}
