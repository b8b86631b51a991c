/**
 * Where a controller's memory goes in a burst, Greenlight and the Go peer side by side: each decides N
 * requests (100 in flight) in a fresh namespace of a local control plane, and the probe reads its
 * /proc status when idle and after the burst — RSS split into file-backed pages (the executable's code
 * as touched) and anonymous memory (heap, buffers, allocator) — and, for Greenlight, V8's heap spaces
 * and external memory from its metrics. A diagnostic beside `npm run bench`, whose burst phase gives
 * the figures (docs/benchmarks.md, F11). Greenlight runs as the image runs it: the Dockerfile's
 * NODE_OPTIONS and other ENV variables, and the node flags of its ENTRYPOINT (bench/lib/build.ts).
 *
 *   node bench/memory-probe.ts [--requests 2000] [--node-options "..."] [--heap-snapshot]
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildController, imageRuntime } from './lib/build.ts';
import { createWorkspace, startBenchCluster, type BenchCluster } from './lib/cluster.ts';
import { ControllerProcess } from './lib/controller-process.ts';
import { summarizeHeap } from './lib/heap-snapshot.ts';
import { GreenlightApi } from '../src/k8s/greenlight-api.ts';
import { inFlight, newCallStats, withRetry } from './lib/load.ts';
import { DecisionObserver } from './lib/observer.ts';
import { buildPeer } from './lib/peer.ts';
import { markdownTable } from './lib/stats.ts';
import { paymentSpec, requestName } from './lib/workload.ts';

/** The memory lines of /proc/PID/status, in MiB. */
export interface ProcessMemory {
  readonly rss: number;
  readonly peak: number;
  readonly anonymous: number;
  readonly file: number;
}

export function processMemory(status: string): ProcessMemory {
  const mib = (field: string): number => {
    const kib = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1];
    return kib === undefined ? Number.NaN : Math.round((Number(kib) / 1024) * 10) / 10;
  };
  return { rss: mib('VmRSS'), peak: mib('VmHWM'), anonymous: mib('RssAnon'), file: mib('RssFile') };
}

/** V8's heap spaces (total) and external memory from a Node.js process's Prometheus metrics, in MiB. */
export function heapFigures(metrics: string): Record<string, number> {
  const figures: Record<string, number> = {};
  for (const line of metrics.split('\n')) {
    const match =
      /^nodejs_heap_space_size_total_bytes\{space="(\w+)"\} (\d+)/.exec(line) ??
      /^nodejs_(external_memory)_bytes (\d+)/.exec(line);
    const [, name, bytes] = match ?? [];
    if (name !== undefined && Number(bytes) > 0)
      figures[name] = Math.round((Number(bytes) / 2 ** 20) * 10) / 10;
  }
  return figures;
}

interface Probe {
  readonly name: string;
  readonly idle: ProcessMemory;
  readonly burst: ProcessMemory;
  readonly heap: Record<string, number>;
}

async function probe(
  bench: BenchCluster,
  options: {
    readonly name: string;
    readonly entry: string;
    readonly binary?: string;
    readonly nodeOptions: string;
    readonly env?: Readonly<Record<string, string>>;
    readonly nodeFlags?: readonly string[];
    readonly requests: number;
    readonly workDir: string;
    readonly heapDir?: string | undefined;
  },
): Promise<Probe> {
  const namespace = `probe-${options.name}`;
  await createWorkspace(bench.admin, namespace);
  const observer = await DecisionObserver.start(bench.admin, namespace);
  const controller = await ControllerProcess.start({
    label: `probe-${options.name}`,
    entry: options.entry,
    binary: options.binary,
    nodeOptions: options.nodeOptions,
    env: options.env,
    nodeFlags: options.nodeFlags,
    namespace,
    kubeconfig: bench.cluster.kubeconfigs.admin,
    logDir: options.workDir,
    heapSnapshotDir: options.heapDir,
  });
  try {
    await controller.waitReady(60_000);
    const memory = (): ProcessMemory =>
      processMemory(readFileSync(`/proc/${controller.pid ?? 0}/status`, 'utf8'));
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const idle = memory();
    const ci = new GreenlightApi(bench.ci);
    const stats = newCallStats();
    await inFlight(options.requests, 100, stats, async (index) => {
      const spec = paymentSpec(index, index % 2 === 0 ? 'approve' : 'deny', bench.requester);
      await withRetry(stats, () => ci.createRequest(namespace, requestName('req', index), spec));
    });
    await observer.until(() => observer.decided.size >= options.requests, 180_000, 'the burst');
    const burst = memory();
    const heap = heapFigures(await controller.metrics());
    if (options.heapDir) {
      const summary = summarizeHeap(await controller.heapSnapshot(options.heapDir));
      console.log(`\nHeap snapshot of ${options.name} after the burst:\n${JSON.stringify(summary, null, 1)}`);
    }
    return { name: options.name, idle, burst, heap };
  } finally {
    observer.stop();
    await controller.stop();
  }
}

async function main(): Promise<void> {
  const image = imageRuntime();
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '2000' },
      'node-options': { type: 'string', default: image.nodeOptions },
      'heap-snapshot': { type: 'boolean', default: false },
    },
  });
  const requests = Number(values.requests);
  const workDir = mkdtempSync(join(tmpdir(), 'greenlight-memory-probe-'));
  const heapDir = values['heap-snapshot'] ? join(workDir, 'heap') : undefined;
  if (heapDir) mkdirSync(heapDir);
  const progress = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  const entry = await buildController(join(workDir, 'build'), progress);
  const peer = await buildPeer(progress);
  const bench = await startBenchCluster(() => undefined);
  try {
    const common = { entry, nodeOptions: values['node-options'], requests, workDir };
    const results = [
      await probe(bench, {
        ...common,
        name: 'greenlight',
        heapDir,
        env: image.env,
        nodeFlags: image.nodeFlags,
      }),
      await probe(bench, { ...common, name: 'peer', binary: peer }),
    ];
    const one = (value: number): string => value.toFixed(1);
    const environment = Object.entries(image.env).map(([name, value]) => `${name}=${value} `);
    const flags = image.nodeFlags.length > 0 ? `, node ${image.nodeFlags.join(' ')}` : '';
    console.log(
      `\n${environment.join('')}NODE_OPTIONS=${values['node-options']}${flags}; ${requests} requests, 100 in flight (MiB):\n`,
    );
    console.log(
      markdownTable(
        [
          'controller',
          'idle RSS (file + anon)',
          'after the burst: RSS (file + anon)',
          'peak RSS',
          'V8 heap spaces, external',
        ],
        results.map(({ name, idle, burst, heap }) => [
          name,
          `${one(idle.rss)} (${one(idle.file)} + ${one(idle.anonymous)})`,
          `${one(burst.rss)} (${one(burst.file)} + ${one(burst.anonymous)})`,
          one(burst.peak),
          Object.entries(heap)
            .map(([space, mib]) => `${space} ${one(mib)}`)
            .join(', ') || '–',
        ]),
      ),
    );
  } finally {
    await bench.cluster.stop();
    rmSync(join(workDir, 'build'), { recursive: true, force: true });
  }
}

if (import.meta.filename === process.argv[1]) await main();
