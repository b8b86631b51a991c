/**
 * Where a controller's memory goes in a burst, Greenlight and the Go peer side by side: each decides N
 * requests (100 in flight) in a fresh namespace of a local control plane, and the probe reads its
 * /proc status when idle and after the burst — RSS split into file-backed pages (the executable's code
 * as touched) and anonymous memory (heap, buffers, allocator) — and, for Greenlight, V8's heap spaces
 * and external memory from its metrics. A diagnostic beside `npm run bench`, whose burst phase gives
 * the figures (docs/benchmarks.md, F11). Greenlight runs as the image runs it: the Dockerfile's
 * NODE_OPTIONS and other ENV variables, and the node flags of its ENTRYPOINT (bench/lib/build.ts).
 *
 * Variants (`--variant 'LABEL: NAME=VALUE --node-flag …'`, repeatable) add environment variables or
 * node flags to the image's; with `--rounds N` each round runs every variant and the peer (in reverse
 * order every other round), and the summary gives medians and each variant's ratios to the peer of
 * its round: peak RSS, and the controller's CPU per decision in the burst (after a warm-up, as
 * bench/controller.ts measures it).
 *
 *   node bench/memory-probe.ts [--requests 2000] [--warmup 50] [--rounds 1] [--variant 'LABEL: …']…
 *                              [--node-options "..."] [--heap-snapshot]
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
import { markdownTable, oneMinuteLoad } from './lib/stats.ts';
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

/**
 * A way to run Greenlight besides the image's: `LABEL: TOKEN…`, each token a `NAME=VALUE`
 * environment variable or a node flag (`--max-opt=2`), added to what the image sets (a flag given
 * twice: the later one counts), `!NAME`: one of the image's environment variables left out, or `entry=PATH`: another build's main.mjs instead of this tree's (say,
 * main's, built beforehand with bench/lib/build.ts), to compare code changes in the same run.
 */
export interface Variant {
  readonly label: string;
  readonly env: Readonly<Record<string, string>>;
  /** The image's environment variables this variant leaves out. */
  readonly unset: readonly string[];
  readonly nodeFlags: readonly string[];
  readonly entry?: string;
}

export function parseVariant(text: string): Variant {
  const colon = text.indexOf(':');
  const label = (colon === -1 ? text : text.slice(0, colon)).trim();
  if (!/^[\w.=+-]+$/.test(label))
    throw new Error(`a variant needs a label of letters, digits and .=+-: ${text}`);
  const env: Record<string, string> = {};
  const nodeFlags: string[] = [];
  const unset: string[] = [];
  let entry: string | undefined;
  for (const token of (colon === -1 ? '' : text.slice(colon + 1)).split(/\s+/).filter(Boolean)) {
    const variable = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(token);
    const left = /^!([A-Z_][A-Z0-9_]*)$/.exec(token)?.[1];
    if (variable?.[1] !== undefined) env[variable[1]] = variable[2] ?? '';
    else if (left !== undefined) unset.push(left);
    else if (token.startsWith('entry=')) entry = token.slice('entry='.length);
    else if (token.startsWith('-')) nodeFlags.push(token);
    else throw new Error(`neither NAME=VALUE, !NAME, entry=PATH nor a node flag: ${token} (in ${text})`);
  }
  return { label, env, unset, nodeFlags, ...(entry === undefined ? {} : { entry }) };
}

/** A variant's environment: the image's, with the variant's added and the ones it leaves out gone. */
export function variantEnv(
  image: Readonly<Record<string, string>>,
  variant: Pick<Variant, 'env' | 'unset'>,
): Record<string, string> {
  const env = { ...image, ...variant.env };
  for (const name of variant.unset) Reflect.deleteProperty(env, name);
  return env;
}

/** The middle value (the mean of the two middle ones for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? Number.NaN) + (sorted[middle] ?? Number.NaN)) / 2;
}

interface Probe {
  readonly name: string;
  readonly round: number;
  readonly idle: ProcessMemory;
  readonly burst: ProcessMemory;
  readonly heapIdle: Record<string, number>;
  readonly heap: Record<string, number>;
  /** The controller's CPU per decision during the burst (after the warm-up), in ms. */
  readonly cpuMsPerDecision: number;
  /** First create of the burst to last decision observed, in seconds. */
  readonly seconds: number;
  readonly load: { readonly before: number; readonly after: number };
}

async function probe(
  bench: BenchCluster,
  options: {
    readonly name: string;
    readonly round: number;
    readonly entry: string;
    readonly binary?: string;
    readonly nodeOptions: string;
    readonly env?: Readonly<Record<string, string>>;
    readonly nodeFlags?: readonly string[];
    readonly requests: number;
    readonly warmup: number;
    readonly workDir: string;
    readonly heapDir?: string | undefined;
  },
): Promise<Probe> {
  const id = `${options.name}-${options.round}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
  const namespace = `probe-${id}`;
  await createWorkspace(bench.admin, namespace);
  const observer = await DecisionObserver.start(bench.admin, namespace);
  const controller = await ControllerProcess.start({
    label: `probe-${id}`,
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
    const heapIdle = heapFigures(await controller.metrics());
    const ci = new GreenlightApi(bench.ci);
    const stats = newCallStats();
    const create = (prefix: string) => async (index: number) => {
      const spec = paymentSpec(index, index % 2 === 0 ? 'approve' : 'deny', bench.requester);
      await withRetry(stats, () => ci.createRequest(namespace, requestName(prefix, index), spec));
    };
    // Warm-up (its memory counts in the peak, its CPU not), as in bench/controller.ts.
    await inFlight(options.warmup, 8, stats, create('warm'));
    await observer.until(() => observer.decided.size >= options.warmup, 60_000, 'the warm-up');
    const loadBefore = oneMinuteLoad();
    const cpuBefore = controller.cpuSeconds() ?? Number.NaN;
    const started = performance.now();
    await inFlight(options.requests, 100, stats, create('req'));
    const total = options.warmup + options.requests;
    await observer.until(() => observer.decided.size >= total, 180_000, 'the burst');
    const seconds = (performance.now() - started) / 1000;
    const cpu = (controller.cpuSeconds() ?? Number.NaN) - cpuBefore;
    const burst = memory();
    const heap = heapFigures(await controller.metrics());
    if (options.heapDir) {
      const summary = summarizeHeap(await controller.heapSnapshot(options.heapDir));
      console.log(`\nHeap snapshot of ${id} after the burst:\n${JSON.stringify(summary, null, 1)}`);
    }
    const result: Probe = {
      name: options.name,
      round: options.round,
      idle,
      burst,
      heapIdle,
      heap,
      cpuMsPerDecision: (cpu * 1000) / options.requests,
      seconds,
      load: { before: loadBefore, after: oneMinuteLoad() },
    };
    process.stderr.write(
      `  ${id}: peak ${result.burst.peak.toFixed(1)} MiB, idle ${result.idle.rss.toFixed(1)} MiB, ` +
        `${result.cpuMsPerDecision.toFixed(2)} ms CPU per decision, ${seconds.toFixed(1)} s, ` +
        `load ${result.load.before}–${result.load.after}\n`,
    );
    return result;
  } finally {
    observer.stop();
    await controller.stop();
  }
}

const one = (value: number): string => value.toFixed(1);
const spaces = (heap: Record<string, number>): string =>
  Object.entries(heap)
    .map(([space, mib]) => `${space} ${one(mib)}`)
    .join(', ') || '–';

async function main(): Promise<void> {
  const image = imageRuntime();
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '2000' },
      warmup: { type: 'string', default: '50' },
      rounds: { type: 'string', default: '1' },
      variant: { type: 'string', multiple: true },
      'node-options': { type: 'string', default: image.nodeOptions },
      'heap-snapshot': { type: 'boolean', default: false },
    },
  });
  const requests = Number(values.requests);
  const warmup = Number(values.warmup);
  const rounds = Number(values.rounds);
  const variants = (values.variant ?? ['image']).map(parseVariant);
  if (
    new Set(variants.map(({ label }) => label)).size !== variants.length ||
    variants.some(({ label }) => label === 'peer')
  ) {
    throw new Error('each variant needs its own label, and not "peer"');
  }
  const workDir = mkdtempSync(join(tmpdir(), 'greenlight-memory-probe-'));
  const heapDir = values['heap-snapshot'] ? join(workDir, 'heap') : undefined;
  if (heapDir) mkdirSync(heapDir);
  const progress = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  const entry = await buildController(join(workDir, 'build'), progress);
  const peer = await buildPeer(progress);
  const bench = await startBenchCluster(() => undefined);
  const results: Probe[] = [];
  try {
    const common = { entry, nodeOptions: values['node-options'], requests, warmup, workDir };
    for (let round = 1; round <= rounds; round++) {
      // Odd rounds: the variants in order, then the peer; even rounds: the peer, then the variants in
      // reverse (a drift in the machine's load weighs on every side).
      const order: (Variant | 'peer')[] = [...variants, 'peer'];
      if (round % 2 === 0) order.reverse();
      for (const side of order) {
        results.push(
          side === 'peer'
            ? await probe(bench, { ...common, name: 'peer', round, binary: peer })
            : await probe(bench, {
                ...common,
                name: side.label,
                round,
                entry: side.entry ?? entry,
                heapDir,
                env: variantEnv(image.env, side),
                nodeFlags: [...image.nodeFlags, ...side.nodeFlags],
              }),
        );
      }
    }
  } finally {
    await bench.cluster.stop();
    rmSync(join(workDir, 'build'), { recursive: true, force: true });
  }
  const environment = Object.entries(image.env).map(([name, value]) => `${name}=${value} `);
  const flags = image.nodeFlags.length > 0 ? `, node ${image.nodeFlags.join(' ')}` : '';
  console.log(
    `\nImage: ${environment.join('')}NODE_OPTIONS=${values['node-options']}${flags}; ` +
      `${warmup} + ${requests} requests, 100 in flight; ${rounds} round(s) (MiB; CPU: ms per decision after the warm-up):\n`,
  );
  for (const variant of variants) {
    const extra = [
      ...Object.entries(variant.env).map(([name, value]) => `${name}=${value}`),
      ...variant.unset.map((name) => `without ${name}`),
      ...variant.nodeFlags,
    ];
    if (extra.length > 0) console.log(`- ${variant.label}: ${extra.join(' ')}`);
  }
  const peerOf = (round: number): Probe | undefined =>
    results.find((result) => result.name === 'peer' && result.round === round);
  console.log(
    `\n${markdownTable(
      [
        'controller',
        'round',
        'load 1m',
        'idle RSS (file + anon)',
        'after the burst: RSS (file + anon)',
        'peak RSS',
        'vs peer',
        'CPU ms',
        'vs peer',
        'burst s',
        'V8 idle',
        'V8 after the burst',
      ],
      results.map((result) => {
        const { name, round, idle, burst, heapIdle, heap, load } = result;
        const peerResult = name === 'peer' ? undefined : peerOf(round);
        return [
          name,
          String(round),
          `${load.before.toFixed(1)}–${load.after.toFixed(1)}`,
          `${one(idle.rss)} (${one(idle.file)} + ${one(idle.anonymous)})`,
          `${one(burst.rss)} (${one(burst.file)} + ${one(burst.anonymous)})`,
          one(burst.peak),
          peerResult ? `${(burst.peak / peerResult.burst.peak).toFixed(2)}×` : '',
          result.cpuMsPerDecision.toFixed(2),
          peerResult ? `${(result.cpuMsPerDecision / peerResult.cpuMsPerDecision).toFixed(2)}×` : '',
          result.seconds.toFixed(1),
          spaces(heapIdle),
          spaces(heap),
        ];
      }),
    )}`,
  );
  const range = (values: readonly number[], digits: number, suffix = ''): string =>
    `${median(values).toFixed(digits)}${suffix} [${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}]`;
  console.log(
    `\nMedians [lowest–highest] over ${rounds} round(s); ratios against the peer of the same round:\n\n${markdownTable(
      ['controller', 'peak RSS', 'peak vs peer', 'CPU ms per decision', 'CPU vs peer', 'burst s'],
      [...variants.map(({ label }) => label), 'peer'].map((name) => {
        const mine = results.filter((result) => result.name === name);
        const paired = mine.flatMap((result) => {
          const peerResult = peerOf(result.round);
          return peerResult ? [{ result, peer: peerResult }] : [];
        });
        return [
          name,
          range(
            mine.map(({ burst }) => burst.peak),
            1,
          ),
          name === 'peer'
            ? ''
            : range(
                paired.map(({ result, peer }) => result.burst.peak / peer.burst.peak),
                2,
                '×',
              ),
          range(
            mine.map(({ cpuMsPerDecision }) => cpuMsPerDecision),
            2,
          ),
          name === 'peer'
            ? ''
            : range(
                paired.map(({ result, peer }) => result.cpuMsPerDecision / peer.cpuMsPerDecision),
                2,
                '×',
              ),
          range(
            mine.map(({ seconds }) => seconds),
            1,
          ),
        ];
      }),
    )}`,
  );
}

if (import.meta.filename === process.argv[1]) await main();
