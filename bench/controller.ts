/**
 * Greenlight against a real control plane, side by side with the API server's own ceiling: throughput,
 * latency at a fixed rate, a burst, memory and start-up with many requests stored, and the cost of
 * Slack and of decision webhooks. Prints Markdown tables, writes bench/results/controller.json and (full runs) the figures into
 * docs/benchmarks.md. What is measured and how: docs/benchmarks.md.
 *
 *   node bench/controller.ts                 full run (about 20–25 minutes on 2 cores)
 *   node bench/controller.ts --quick         scaled down, a couple of minutes: a smoke test, not figures
 *   node bench/controller.ts --help          every flag
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startBenchCluster } from './lib/cluster.ts';
import { benchContext, type BenchContext } from './lib/context.ts';
import { summarizeProfile, type ProfileSummary } from './lib/cpu-profile.ts';
import { DEFAULT_CONCURRENCY } from '../src/controllers/manager.ts';
import { buildController, imageNodeOptions, imageRuntime, SOURCE_ENTRY } from './lib/build.ts';
import { parseReport, renderReport, updateDocs, type Report } from './lib/report.ts';
import { buildPeer, toolVersions } from './lib/peer.ts';
import { measureRun, type Decider, type RunResult, type Schedule } from './lib/runs.ts';
import { measureSlack, type SlackResult } from './lib/slack.ts';
import { oneMinuteLoad, machine } from './lib/stats.ts';
import { measureStore, storeStartLabel, type StoreResult } from './lib/store.ts';
import { measureWebhooks, type WebhookResult } from './lib/webhooks.ts';

const PHASES = ['throughput', 'latency', 'burst', 'memory', 'slack', 'webhooks'] as const;
type Phase = (typeof PHASES)[number];
const PEER_PHASES: readonly Phase[] = ['throughput', 'latency', 'burst', 'memory'];

export interface Settings {
  readonly throughput: number;
  readonly concurrency: number;
  readonly rate: number;
  readonly durationSeconds: number;
  readonly burst: number;
  readonly burstConcurrency: number;
  readonly storeSizes: readonly number[];
  readonly storeConcurrency: number;
  readonly settleMs: number;
  readonly storeStarts: number;
  readonly storeBudgetMinutes: number;
  readonly warmup: number;
  readonly slackCount: number;
  /** Greenlight and Go-peer runs per phase, interleaved (G P, P G, G P …); medians are reported. */
  readonly repeats: number;
  /** Rounds of the webhooks phase, each off, on, on, off. */
  readonly webhookRounds: number;
}

const FULL: Settings = {
  throughput: 3_000,
  concurrency: 32,
  rate: 50,
  durationSeconds: 60,
  burst: 2_000,
  burstConcurrency: 100,
  storeSizes: [10_000, 100_000],
  storeConcurrency: 48,
  settleMs: 15_000,
  storeStarts: 3,
  storeBudgetMinutes: 20,
  warmup: 50,
  slackCount: 1_000,
  repeats: 3,
  webhookRounds: 1,
};

const QUICK: Settings = {
  throughput: 400,
  concurrency: 32,
  rate: 25,
  durationSeconds: 8,
  burst: 200,
  burstConcurrency: 100,
  storeSizes: [1_000, 3_000],
  storeConcurrency: 48,
  settleMs: 3_000,
  storeStarts: 1,
  storeBudgetMinutes: 5,
  warmup: 20,
  slackCount: 200,
  repeats: 1,
  webhookRounds: 1,
};

const help = (): string => `Usage: node bench/controller.ts [flags]

  --quick                       scaled-down sizes (a smoke test, not figures)
  --phases LIST                 comma-separated: ${PHASES.join(',')} (default: all)
                                (slack and webhooks each run ${FULL.slackCount} requests off, on, on, off)
  --throughput N                requests in the throughput runs (full ${FULL.throughput})
  --concurrency N               creates in flight, ceiling and Greenlight alike (${FULL.concurrency})
  --rate R --duration S         the steady-state run (${FULL.rate}/s for ${FULL.durationSeconds} s)
  --burst N                     the burst (${FULL.burst}, ${FULL.burstConcurrency} in flight)
  --repeats N                   Greenlight and Go-peer runs per phase, interleaved; medians count (${FULL.repeats})
  --webhook-rounds N            rounds of the webhooks phase, each off, on, on, off (${FULL.webhookRounds})
  --store-sizes A,B             requests stored for memory and start-up (${FULL.storeSizes.join(',')})
  --store-budget-minutes M      largest store that fits in M minutes (${FULL.storeBudgetMinutes})
  --store-starts N              controller starts per store size; the median RSS counts (${FULL.storeStarts})
  --controller-concurrency N    the controller's --concurrency (default: its own, ${DEFAULT_CONCURRENCY})
  --controller-from dist|ts     run the controller compiled and bundled (as the container does; default) or from src/;
                                either way as the Dockerfile runs it (NODE_OPTIONS=${imageNodeOptions()}, its ENV, its ENTRYPOINT flags)
  --cpu-prof                    CPU-profile every controller process (node --cpu-prof) and summarize
  --heap-snapshots              heap snapshot of each memory-measurement controller, summarized
  --write-docs / --no-write-docs  update docs/benchmarks.md (default: on for full runs of every phase)
  --report-from FILE            measure nothing: render FILE (a controller.json) again, into the docs too`;

function parseFlags() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      phases: { type: 'string' },
      throughput: { type: 'string' },
      concurrency: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      burst: { type: 'string' },
      repeats: { type: 'string' },
      'webhook-rounds': { type: 'string' },
      'store-sizes': { type: 'string' },
      'store-budget-minutes': { type: 'string' },
      'store-starts': { type: 'string' },
      'controller-concurrency': { type: 'string' },
      'controller-from': { type: 'string', default: 'dist' },
      'cpu-prof': { type: 'boolean', default: false },
      'heap-snapshots': { type: 'boolean', default: false },
      'write-docs': { type: 'boolean' },
      'no-write-docs': { type: 'boolean' },
      'report-from': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const base = values.quick ? QUICK : FULL;
  const number = (value: string | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`not a positive number: ${value}`);
    return parsed;
  };
  const phases = (values.phases?.split(',') ?? [...PHASES]).map((phase) => {
    if (!(PHASES as readonly string[]).includes(phase)) throw new Error(`unknown phase ${phase}`);
    return phase as Phase;
  });
  const settings: Settings = {
    ...base,
    throughput: number(values.throughput, base.throughput),
    concurrency: number(values.concurrency, base.concurrency),
    rate: number(values.rate, base.rate),
    durationSeconds: number(values.duration, base.durationSeconds),
    burst: number(values.burst, base.burst),
    repeats: number(values.repeats, base.repeats),
    webhookRounds: number(values['webhook-rounds'], base.webhookRounds),
    storeSizes: values['store-sizes']?.split(',').map((size) => number(size, 0)) ?? base.storeSizes,
    storeBudgetMinutes: number(values['store-budget-minutes'], base.storeBudgetMinutes),
    storeStarts: number(values['store-starts'], base.storeStarts),
  };
  const controllerConcurrency =
    values['controller-concurrency'] === undefined
      ? undefined
      : number(values['controller-concurrency'], DEFAULT_CONCURRENCY);
  // Only a full run of every phase replaces the figures in the docs; a run of some phases does not.
  const everyPhase = values.phases === undefined;
  const writeDocs = values['no-write-docs'] ? false : (values['write-docs'] ?? (!values.quick && everyPhase));
  return {
    help: values.help,
    reportFrom: values['report-from'],
    quick: values.quick,
    phases,
    settings,
    controllerConcurrency,
    controllerFrom: values['controller-from'] === 'ts' ? ('ts' as const) : ('dist' as const),
    cpuProfile: values['cpu-prof'],
    heapSnapshots: values['heap-snapshots'],
    writeDocs,
  };
}

interface Runs {
  throughput: RunResult[];
  latency: RunResult[];
  burst: RunResult[];
}

/**
 * Greenlight and the Go peer, `repeats` times each, interleaved (G P, P G, G P …) so that a drift in
 * the machine's load weighs on both; run labels end in the repeat's number.
 */
async function pairs(
  context: BenchContext,
  phase: string,
  schedule: Schedule,
  repeats: number,
): Promise<RunResult[]> {
  const greenlight: Decider = { kind: 'greenlight' };
  const peer: Decider = { kind: 'peer' };
  const runs: RunResult[] = [];
  for (let repeat = 1; repeat <= repeats; repeat++) {
    const order =
      repeat % 2 === 1
        ? ([
            ['greenlight', greenlight],
            ['peer', peer],
          ] as const)
        : ([
            ['peer', peer],
            ['greenlight', greenlight],
          ] as const);
    for (const [name, decider] of order) {
      runs.push(await measureRun(context, `${phase}-${name}-${repeat}`, decider, schedule));
    }
  }
  return runs;
}

async function runPhases(
  context: BenchContext,
  flags: ReturnType<typeof parseFlags>,
): Promise<{ runs: Runs; store?: StoreResult; slack?: SlackResult; webhooks?: WebhookResult }> {
  const { settings, phases } = flags;
  const runs: Runs = { throughput: [], latency: [], burst: [] };
  const ceiling = { kind: 'ceiling', events: true } as const;
  const { repeats } = settings;
  // A throw-away run first: a fresh API server (its Go heap, caches, etcd) is slower for a while, and
  // whichever run came first would pay for it.
  await measureRun(context, 'warm-up', ceiling, {
    kind: 'in-flight',
    count: Math.min(1_000, settings.throughput),
    concurrency: settings.concurrency,
  });
  // Ceilings before and after the controllers' runs: the figure is their mean, so that a change in the
  // machine's load during the phase weighs on both sides.
  if (phases.includes('throughput')) {
    const schedule = {
      kind: 'in-flight',
      count: settings.throughput,
      concurrency: settings.concurrency,
    } as const;
    runs.throughput.push(await measureRun(context, 'throughput-ceiling-1', ceiling, schedule));
    runs.throughput.push(...(await pairs(context, 'throughput', schedule, repeats)));
    runs.throughput.push(await measureRun(context, 'throughput-ceiling-2', ceiling, schedule));
    runs.throughput.push(
      await measureRun(context, 'throughput-ceiling-no-events', { kind: 'ceiling', events: false }, schedule),
    );
  }
  if (phases.includes('latency')) {
    const count = Math.round(settings.rate * settings.durationSeconds);
    const schedule = { kind: 'rate', count, perSecond: settings.rate } as const;
    // A p99 is decided by its slowest 1 %, which one stall of the shared machine fills: the runs of
    // each side are pooled, and the ceiling runs first and last.
    runs.latency.push(await measureRun(context, 'latency-ceiling-1', ceiling, schedule));
    runs.latency.push(...(await pairs(context, 'latency', schedule, repeats)));
    runs.latency.push(await measureRun(context, 'latency-ceiling-2', ceiling, schedule));
  }
  if (phases.includes('burst')) {
    const schedule = {
      kind: 'in-flight',
      count: settings.burst,
      concurrency: settings.burstConcurrency,
    } as const;
    runs.burst.push(await measureRun(context, 'burst-ceiling-1', ceiling, schedule));
    runs.burst.push(...(await pairs(context, 'burst', schedule, repeats)));
    runs.burst.push(await measureRun(context, 'burst-ceiling-2', ceiling, schedule));
  }
  const slack = phases.includes('slack')
    ? await measureSlack(context, {
        kind: 'in-flight',
        count: settings.slackCount,
        concurrency: settings.concurrency,
      })
    : undefined;
  const webhooks = phases.includes('webhooks')
    ? await measureWebhooks(
        context,
        { kind: 'in-flight', count: settings.slackCount, concurrency: settings.concurrency },
        settings.webhookRounds,
      )
    : undefined;
  // Last: it leaves 100,000 objects in etcd, which would weigh on everything measured after it.
  const store = phases.includes('memory')
    ? await measureStore(context, {
        sizes: settings.storeSizes,
        concurrency: settings.storeConcurrency,
        settleMs: settings.settleMs,
        starts: settings.storeStarts,
        budgetMinutes: settings.storeBudgetMinutes,
        granularity: flags.quick ? 500 : 10_000,
      })
    : undefined;
  return {
    runs,
    ...(store ? { store } : {}),
    ...(slack ? { slack } : {}),
    ...(webhooks ? { webhooks } : {}),
  };
}

function profiles(directory: string | undefined, labels: readonly string[]): Record<string, ProfileSummary> {
  const summaries: Record<string, ProfileSummary> = {};
  if (!directory) return summaries;
  for (const label of labels) {
    try {
      summaries[label] = summarizeProfile(join(directory, `${label}.cpuprofile`));
    } catch {
      // no profile for this run (the ceiling has no controller)
    }
  }
  return summaries;
}

async function main(): Promise<void> {
  const flags = parseFlags();
  if (flags.help) {
    console.log(help());
    return;
  }
  if (flags.reportFrom !== undefined) {
    // Only the rendering changed: the figures stay those of the run that wrote the file.
    let report: Report;
    try {
      report = parseReport(readFileSync(flags.reportFrom, 'utf8'), flags.reportFrom);
    } catch (error) {
      console.error(error instanceof Error ? error.message : String(error));
      process.exitCode = 1;
      return;
    }
    const markdown = renderReport(report);
    console.log(markdown);
    updateDocs(markdown);
    return;
  }
  const startedAt = new Date();
  const host = machine();
  const command = ['node', 'bench/controller.ts', ...process.argv.slice(2)].join(' ');
  // As the container image runs it (the Dockerfile's ENV), whether compiled or from src/.
  const image = imageRuntime();
  const controllerNodeOptions = image.nodeOptions;
  const workDir = mkdtempSync(join(tmpdir(), 'greenlight-bench-'));
  const cpuProfileDir = flags.cpuProfile ? join(workDir, 'profiles') : undefined;
  if (cpuProfileDir) mkdirSync(cpuProfileDir, { recursive: true });
  const heapSnapshotDir = flags.heapSnapshots ? join(workDir, 'heap') : undefined;
  if (heapSnapshotDir) mkdirSync(heapSnapshotDir, { recursive: true });
  const progress = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  progress(`# Controller benchmark${flags.quick ? ' (--quick)' : ''}: ${command}`);
  progress(`${host.os}; ${host.cpuCount} × ${host.cpuModel}; Node ${host.node}; logs in ${workDir}`);
  progress(
    `controller: NODE_OPTIONS=${controllerNodeOptions}, env ${JSON.stringify(image.env)}, node flags ${JSON.stringify(image.nodeFlags)} (from the Dockerfile)`,
  );
  const loadBefore = oneMinuteLoad();
  const clusterStarted = performance.now();
  const controllerEntry =
    flags.controllerFrom === 'ts' ? SOURCE_ENTRY : await buildController(join(workDir, 'build'), progress);
  // Only the throughput, latency, burst and memory phases run the Go peer: the others need not build it.
  const withPeer = flags.phases.some((phase) => PEER_PHASES.includes(phase));
  const peerBinary = withPeer ? await buildPeer(progress) : '';
  const versions = await toolVersions(withPeer);
  const bench = await startBenchCluster((line) => {
    progress(`[control plane] ${line}`);
  });
  const context = benchContext(bench, {
    logDir: workDir,
    controllerEntry,
    controllerNodeOptions,
    controllerEnv: image.env,
    controllerNodeFlags: image.nodeFlags,
    peerBinary,
    cpuProfileDir,
    heapSnapshotDir,
    controllerConcurrency: flags.controllerConcurrency,
    warmup: flags.settings.warmup,
    progress,
  });
  let outcome: Awaited<ReturnType<typeof runPhases>>;
  try {
    progress(`control plane ready in ${((performance.now() - clusterStarted) / 1000).toFixed(1)}s`);
    outcome = await runPhases(context, flags);
  } finally {
    await bench.cluster.stop();
    rmSync(join(workDir, 'build'), { recursive: true, force: true });
  }
  const allRuns = [...outcome.runs.throughput, ...outcome.runs.latency, ...outcome.runs.burst];
  const report: Report = {
    benchmark: 'controller',
    generatedAt: new Date().toISOString(),
    startedAt: startedAt.toISOString(),
    minutes: Math.round((Date.now() - startedAt.getTime()) / 6000) / 10,
    quick: flags.quick,
    command,
    settings: flags.settings,
    controllerConcurrency: flags.controllerConcurrency ?? DEFAULT_CONCURRENCY,
    controllerConcurrencyIsDefault: flags.controllerConcurrency === undefined,
    controllerFrom: flags.controllerFrom,
    controllerNodeOptions,
    controllerImage: { env: image.env, nodeFlags: image.nodeFlags },
    machine: host,
    ...versions,
    loadAverage1m: { before: loadBefore, after: oneMinuteLoad() },
    runs: outcome.runs,
    store: outcome.store ?? null,
    slack: outcome.slack ?? null,
    webhooks: outcome.webhooks ?? null,
    profiles: profiles(cpuProfileDir, [
      ...allRuns.map((run) => run.label),
      ...[...(outcome.slack?.off ?? []), ...(outcome.slack?.on ?? [])].map((run) => run.label),
      ...[...(outcome.webhooks?.off ?? []), ...(outcome.webhooks?.on ?? [])].map((run) => run.label),
      ...(outcome.store?.steps.flatMap((step) =>
        step.rssSamplesMiB.map((_, start) =>
          storeStartLabel({ stored: step.stored, start, side: 'greenlight' }),
        ),
      ) ?? []),
    ]),
  };
  const markdown = renderReport(report);
  console.log(markdown);
  const results = new URL('results/', import.meta.url);
  mkdirSync(results, { recursive: true });
  // controller.json holds the run the docs show; a run of some phases goes beside it.
  const file = new URL(
    flags.phases.length === PHASES.length ? 'controller.json' : 'controller.partial.json',
    results,
  );
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  progress(`\nWrote ${fileURLToPath(file)}`);
  if (flags.writeDocs) {
    updateDocs(markdown);
    progress('Updated docs/benchmarks.md');
  }
  if (cpuProfileDir) progress(`CPU profiles in ${cpuProfileDir}`);
}

await main();
