/**
 * The controller benchmark's report: a summary against the targets of issue 6, the runs in detail,
 * memory and start-up; written between markers into docs/benchmarks.md.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { ProfileSummary } from './cpu-profile.ts';
import { deciderName, describeSchedule, type RunResult } from './runs.ts';
import type { SlackResult } from './slack.ts';
import {
  formatInteger,
  formatOne,
  formatTwo,
  formatRatio,
  markdownTable,
  summarize,
  type LatencySummary,
  type Machine,
} from './stats.ts';
import type { StoreResult, StoreSide } from './store.ts';
import type { WebhookResult } from './webhooks.ts';

export interface Report {
  readonly benchmark: 'controller';
  readonly generatedAt: string;
  readonly startedAt: string;
  readonly minutes: number;
  readonly quick: boolean;
  readonly command: string;
  readonly settings: object;
  /** The controller's --concurrency: given, or its default (DEFAULT_CONCURRENCY) at the time of the run. */
  readonly controllerConcurrency: number;
  readonly controllerConcurrencyIsDefault: boolean;
  readonly controllerFrom: 'dist' | 'ts';
  /** NODE_OPTIONS of the controller processes: the container image's (the Dockerfile's ENV). */
  readonly controllerNodeOptions: string;
  /** The image's other ENV variables and its ENTRYPOINT's node flags (absent in earlier results). */
  readonly controllerImage?: {
    readonly env: Readonly<Record<string, string>>;
    readonly nodeFlags: readonly string[];
  };
  readonly machine: Machine;
  /** "etcd v3.7.3 and kube-apiserver v1.37.2"; absent in results written before it was recorded. */
  readonly controlPlane?: string;
  /** The Go peer's toolchain and controller-runtime version. */
  readonly peerGo?: string;
  readonly peerControllerRuntime?: string;
  readonly loadAverage1m: { readonly before: number; readonly after: number };
  readonly runs: {
    readonly throughput: readonly RunResult[];
    readonly latency: readonly RunResult[];
    readonly burst: readonly RunResult[];
  };
  readonly store: StoreResult | null;
  readonly slack: SlackResult | null;
  /** Absent in results written before decision webhooks existed. */
  readonly webhooks?: WebhookResult | null;
  readonly profiles: Readonly<Record<string, ProfileSummary>>;
}

const DOCS = new URL('../../docs/benchmarks.md', import.meta.url);
const ENGINE_RESULTS = new URL('../results/policy-engine.json', import.meta.url);
const BEGIN = '<!-- controller-bench:begin -->';
const END = '<!-- controller-bench:end -->';

const verdict = (met: boolean | undefined): string =>
  met === undefined ? 'n/a' : met ? '**met**' : '**missed**';

/** The runs of one side of a phase: Greenlight's or the Go peer's. */
const sideRuns = (runs: readonly RunResult[], kind: 'greenlight' | 'peer'): RunResult[] =>
  runs.filter((run) => run.decider.kind === kind);

/** The ceiling runs (create + status + Event) of a phase: one, or one before and one after. */
const ceilingRuns = (runs: readonly RunResult[]): RunResult[] =>
  runs.filter((run) => run.decider.kind === 'ceiling' && run.decider.events);

const mean = (values: readonly number[]): number =>
  values.length === 0 ? Number.NaN : values.reduce((sum, value) => sum + value, 0) / values.length;

/** "a" for one ceiling, "m (mean of a, b)" for several. */
function ceilingCell(values: readonly number[], format: (value: number) => string): string {
  if (values.length <= 1) return format(values[0] ?? Number.NaN);
  return `${format(mean(values))} (mean of ${values.map(format).join(', ')})`;
}

/** "a" for one run, "m (median of a, b, c)" for several; "–" for none. */
function medianCell(values: readonly number[], format: (value: number) => string): string {
  if (values.length === 0) return '–';
  if (values.length === 1) return format(values[0] ?? Number.NaN);
  return `${format(medianOf(values))} (median of ${values.map(format).join(', ')})`;
}

const latencyCell = (latency: LatencySummary): string =>
  `${formatOne(latency.p50Ms)} / ${formatOne(latency.p95Ms)} / ${formatOne(latency.p99Ms)} ms`;

/** The latencies of several runs of one kind, as one sample. */
const pooled = (runs: readonly RunResult[]): LatencySummary =>
  summarize(runs.flatMap((run) => run.latencySamplesMs));

/** measurement, Greenlight, Go peer, vs peer, ceiling, vs ceiling, targets, verdicts. */
type Row = [string, string, string, string, string, string, string, string];

const ratioCell = (ratio: number): string => (Number.isFinite(ratio) ? formatRatio(ratio) : '–');

/** "peer **met**; ceiling **missed**": one verdict per target that could be judged. */
function verdicts(...judged: readonly (readonly [string, boolean | undefined])[]): string {
  return judged
    .filter(([, met]) => met !== undefined)
    .map(([against, met]) => `${against} ${verdict(met)}`)
    .join('; ');
}

/** Undefined (not judged) when either side is missing. */
const judge = (ratio: number, met: (ratio: number) => boolean): boolean | undefined =>
  Number.isFinite(ratio) ? met(ratio) : undefined;

/** CPU milliseconds per decision, summed over controller, API server, etcd and the benchmark's clients. */
function totalCpuMs(run: RunResult): number {
  const seconds = Object.values(run.cpuSeconds).reduce<number>((sum, value) => sum + (value ?? 0), 0);
  return (seconds / run.decided) * 1000;
}

/** The controller's own CPU milliseconds per decision (its process only). */
function controllerCpuMs(run: RunResult): number {
  const seconds = run.cpuSeconds.controller;
  return seconds === null ? Number.NaN : (seconds / run.decided) * 1000;
}

const ms = (value: number): string => `${formatOne(value)} ms`;

/** The controller's CPU per decision, Greenlight against the peer (target ≤ 1.0×). */
function controllerCpuRow(label: string, runs: readonly RunResult[]): Row {
  const greenlight = sideRuns(runs, 'greenlight').map(controllerCpuMs);
  const peer = sideRuns(runs, 'peer').map(controllerCpuMs);
  const ratio = medianOf(greenlight) / medianOf(peer);
  return [
    label,
    medianCell(greenlight, ms),
    medianCell(peer, ms),
    ratioCell(ratio),
    '',
    '',
    '≤ 1.0× peer',
    verdicts(['peer', judge(ratio, (r) => r <= 1)]),
  ];
}

function throughputRows(runs: Report['runs']['throughput']): Row[] {
  const greenlight = sideRuns(runs, 'greenlight');
  const [first] = greenlight;
  const ceilings = ceilingRuns(runs);
  if (!first || ceilings.length === 0) return [];
  const peer = sideRuns(runs, 'peer');
  const rate = (run: RunResult): number => run.decisionsPerSecond;
  const ceilingRate = mean(ceilings.map(rate));
  const perSecond = (value: number): string => `${formatOne(value)}/s`;
  const vsPeer = medianOf(greenlight.map(rate)) / medianOf(peer.map(rate));
  const vsCeiling = medianOf(greenlight.map(rate)) / ceilingRate;
  const cpuCeiling = ceilings.map(totalCpuMs);
  return [
    [
      `1–2. Throughput, ${describeSchedule(first.schedule)}: decisions/s`,
      medianCell(greenlight.map(rate), perSecond),
      medianCell(peer.map(rate), perSecond),
      ratioCell(vsPeer),
      ceilingCell(ceilings.map(rate), perSecond),
      ratioCell(vsCeiling),
      '≥ 1.0× peer; ≥ 0.80× ceiling',
      verdicts(['peer', judge(vsPeer, (r) => r >= 1)], ['ceiling', vsCeiling >= 0.8]),
    ],
    controllerCpuRow('1–2. Controller CPU per decision (throughput)', runs),
    [
      '1–2. CPU per decision, all processes',
      medianCell(greenlight.map(totalCpuMs), ms),
      medianCell(peer.map(totalCpuMs), ms),
      ratioCell(medianOf(greenlight.map(totalCpuMs)) / medianOf(peer.map(totalCpuMs))),
      ceilingCell(cpuCeiling, ms),
      ratioCell(medianOf(greenlight.map(totalCpuMs)) / mean(cpuCeiling)),
      '',
      '',
    ],
  ];
}

function latencyRows(runs: Report['runs']['latency']): Row[] {
  const ceilings = ceilingRuns(runs);
  const greenlights = sideRuns(runs, 'greenlight');
  const peers = sideRuns(runs, 'peer');
  const [first] = greenlights;
  if (!first || ceilings.length === 0) return [];
  const greenlight = pooled(greenlights);
  const peer = peers.length > 0 ? pooled(peers) : undefined;
  const ceiling = pooled(ceilings);
  const vsPeer = peer ? greenlight.p99Ms / peer.p99Ms : Number.NaN;
  const vsCeiling = greenlight.p99Ms / ceiling.p99Ms;
  const times = greenlights.length > 1 ? `${formatInteger(greenlights.length)} × ` : '';
  const rate =
    first.schedule.kind === 'rate' ? `${formatInteger(first.schedule.perSecond)}/s` : 'a fixed rate';
  return [
    [
      `3. Latency p50 / p95 / p99, ${times}${describeSchedule(first.schedule)}${greenlights.length > 1 ? ' (runs pooled)' : ''}`,
      latencyCell(greenlight),
      peer ? latencyCell(peer) : '–',
      `${ratioCell(vsPeer)} (p99)`,
      latencyCell(ceiling),
      `${ratioCell(vsCeiling)} (p99)`,
      'p99 ≤ 1.0× peer; ≤ 3× ceiling',
      verdicts(['peer', judge(vsPeer, (r) => r <= 1)], ['ceiling', vsCeiling <= 3]),
    ],
    controllerCpuRow(`3. Controller CPU per decision at ${rate}`, runs),
  ];
}

function burstRows(runs: Report['runs']['burst']): Row[] {
  const greenlight = sideRuns(runs, 'greenlight');
  const [first] = greenlight;
  const ceilings = ceilingRuns(runs).map((run) => run.seconds);
  if (!first || ceilings.length === 0) return [];
  const peer = sideRuns(runs, 'peer');
  const seconds = (run: RunResult): number => run.seconds;
  const s = (value: number): string => `${formatOne(value)} s`;
  // Throughput in the burst, as a ratio: the peer's time over Greenlight's (≥ 1.0× is as fast or faster).
  const vsPeer = medianOf(peer.map(seconds)) / medianOf(greenlight.map(seconds));
  const vsCeiling = medianOf(greenlight.map(seconds)) / mean(ceilings);
  const peakRss = (run: RunResult): number => run.controller?.peakRssMiB ?? Number.NaN;
  const mib = (value: number): string => `${formatOne(value)} MiB`;
  const rssRatio = medianOf(greenlight.map(peakRss)) / medianOf(peer.map(peakRss));
  return [
    [
      `4. Burst of ${formatInteger(first.count)}, ${formatInteger(first.schedule.kind === 'in-flight' ? first.schedule.concurrency : 0)} in flight: all decided`,
      medianCell(greenlight.map(seconds), s),
      medianCell(peer.map(seconds), s),
      `${ratioCell(vsPeer)} (throughput)`,
      ceilingCell(ceilings, s),
      `${ratioCell(vsCeiling)} (time)`,
      'throughput ≥ 1.0× peer; time ≤ 2× ceiling',
      verdicts(['peer', judge(vsPeer, (r) => r >= 1)], ['ceiling', vsCeiling <= 2]),
    ],
    controllerCpuRow('4. Controller CPU per decision (burst)', runs),
    [
      '4. Controller peak RSS in the burst',
      medianCell(greenlight.map(peakRss), mib),
      medianCell(peer.map(peakRss), mib),
      ratioCell(rssRatio),
      '',
      '',
      '≤ 1.5× peer',
      verdicts(['peer', judge(rssRatio, (r) => r <= 1.5)]),
    ],
  ];
}

/** ", median of 3 starts: 148.1–152.3" when a size was measured more than once. */
const rssRange = (samples: readonly number[] | undefined): string =>
  samples && samples.length > 1
    ? `, median of ${formatInteger(samples.length)} starts (${formatOne(Math.min(...samples))}–${formatOne(Math.max(...samples))})`
    : '';

function storeRows(store: StoreResult | null): Row[] {
  if (!store) return [];
  const rows: Row[] = [];
  const limitFor = (stored: number): number | undefined =>
    stored === 10_000 ? 150 : stored === 100_000 ? 600 : undefined;
  const memoryCell = (side: StoreSide): string =>
    `${formatOne(side.controller.rssMiB)} MiB (${formatOne(side.controller.heapUsedMiB)} MiB)${rssRange(side.rssSamplesMiB)}`;
  for (const step of store.steps) {
    const limit = limitFor(step.stored);
    const start = step.controller;
    rows.push([
      `5. Memory with ${formatInteger(step.stored)} stored: RSS (heap used)`,
      memoryCell(step),
      step.peer ? memoryCell(step.peer) : '',
      step.peer ? ratioCell(start.rssMiB / step.peer.controller.rssMiB) : '',
      '',
      '',
      limit ? `RSS ≤ ${limit} MiB` : 'RSS ≤ 150 MiB at 10k, ≤ 600 MiB at 100k',
      limit ? verdict(start.rssMiB <= limit) : `n/a (${formatInteger(step.stored)} is not a target size)`,
    ]);
  }
  const largest = store.steps.at(-1);
  if (largest) {
    const greenlight = startUp(largest);
    const peer = largest.peer ? startUp(largest.peer) : undefined;
    rows.push([
      `5. Start-up with ${formatInteger(largest.stored)} stored: ready / first decision`,
      greenlight.cell,
      peer?.cell ?? '',
      peer ? `${ratioCell(greenlight.readyMs / peer.readyMs)} (ready)` : '',
      '',
      '',
      'ready ≤ 10 s at 100k',
      largest.stored === 100_000
        ? verdict(greenlight.readyMs <= 10_000)
        : `n/a (${formatInteger(largest.stored)} stored)`,
    ]);
  }
  return rows;
}

/** Spawn → ready and → first decision: medians over the starts, each start's ready time named. */
function startUp(side: StoreSide): { readyMs: number; cell: string } {
  const start = side.controller;
  const readySamples = side.readySamplesMs ?? [start.readyMs];
  const readyMs = medianOf(readySamples);
  const firstDecisionMs = medianOf(side.firstDecisionSamplesMs ?? [start.firstDecisionMs]);
  const each =
    readySamples.length > 1
      ? ` (medians of ${formatInteger(readySamples.length)} starts; ready ${readySamples.map((ms) => formatOne(ms / 1000)).join(', ')} s)`
      : '';
  return { readyMs, cell: `${formatOne(readyMs / 1000)} s / ${formatOne(firstDecisionMs / 1000)} s${each}` };
}

function medianOf(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
}

const throughputs = (runs: readonly RunResult[] | undefined): number[] =>
  (runs ?? []).map((run) => run.decisionsPerSecond);

function slackRow(slack: SlackResult | null): Row[] {
  if (!slack) return [];
  if (slack.status === 'pending') {
    return [
      ['6. Slack on vs off: throughput lost', 'pending: Slack integration', '', '', '', '', '≤ 5 %', 'n/a'],
    ];
  }
  const cost = slack.costPercent ?? Number.NaN;
  return [
    [
      '6. Slack on vs off: throughput lost',
      `${ceilingCell(throughputs(slack.on), formatOne)} vs ${ceilingCell(throughputs(slack.off), formatOne)} /s`,
      '',
      '',
      '',
      `${formatOne(cost)} %`,
      '≤ 5 %',
      // Slack on faster than off is the machine's noise, not a gain: there is no cost to see.
      cost < 0 ? '**met** (no cost measurable)' : verdict(cost <= 5),
    ],
  ];
}

function webhooksRow(webhooks: WebhookResult | null | undefined): Row[] {
  if (!webhooks) return [];
  const cost = webhooks.costPercent;
  return [
    [
      '8. Webhooks on vs off: throughput lost',
      `${ceilingCell(throughputs(webhooks.on), formatOne)} vs ${ceilingCell(throughputs(webhooks.off), formatOne)} /s`,
      '',
      '',
      '',
      `${formatOne(cost)} %`,
      'no measurable cost (the mean with webhooks within the span of the runs without)',
      // Measurable means outside what runs without webhooks already vary by: the slowest of them.
      verdict(mean(throughputs(webhooks.on)) >= Math.min(...throughputs(webhooks.off))),
    ],
    ...webhooksCpuRow(webhooks),
  ];
}

/** Mean controller CPU seconds per 1,000 decisions over runs, and each run's. */
function controllerCpu(runs: readonly RunResult[]): { mean: number; each: number[] } {
  const each = runs.flatMap((run) =>
    run.cpuSeconds.controller === null ? [] : [(run.cpuSeconds.controller / run.decided) * 1000],
  );
  return { mean: each.reduce((sum, value) => sum + value, 0) / each.length, each };
}

/**
 * The controller's own CPU per 1,000 decisions with webhooks and without: steadier than throughput on
 * a shared machine, and what a delivery costs the controller wherever the receiver runs.
 */
function webhooksCpuRow(webhooks: WebhookResult): Row[] {
  const [on, off] = [controllerCpu(webhooks.on), controllerCpu(webhooks.off)];
  if (on.each.length === 0 || off.each.length === 0) return [];
  const cell = ({ mean, each }: { mean: number; each: number[] }): string =>
    each.length > 1 ? `${formatTwo(mean)} (${each.map(formatTwo).join(', ')})` : formatTwo(mean);
  return [
    [
      '8. Webhooks on vs off: controller CPU s per 1,000 decisions',
      `${cell(on)} vs ${cell(off)}`,
      '',
      '',
      '',
      `${formatOne((on.mean / off.mean - 1) * 100)} %`,
      'within off vs off',
      `off runs span ${formatTwo(Math.min(...off.each))}–${formatTwo(Math.max(...off.each))}`,
    ],
  ];
}

interface EngineMeasurement {
  readonly name: string;
  readonly medianOpsPerSecond: number;
}

function engineRows(): Row[] {
  if (!existsSync(ENGINE_RESULTS)) return [];
  const engine = JSON.parse(readFileSync(ENGINE_RESULTS, 'utf8')) as {
    readonly quick: boolean;
    readonly measurements: readonly EngineMeasurement[];
  };
  const pick = (prefix: string): number =>
    engine.measurements.find((m) => m.name.startsWith(prefix))?.medianOpsPerSecond ?? Number.NaN;
  return [
    [
      `7. Policy engine (\`node bench/policy-engine.ts${engine.quick ? ' --quick' : ''}\`): evaluations/s`,
      `${formatInteger(pick('evaluatePolicy: $120'))} evaluations/s; ${formatInteger(pick('decide, 3 policies: $120'))} decide()/s`,
      '',
      '',
      '',
      '',
      '',
      '',
    ],
  ];
}

function summaryTable(report: Report): string {
  const rows = [
    ...throughputRows(report.runs.throughput),
    ...latencyRows(report.runs.latency),
    ...burstRows(report.runs.burst),
    ...storeRows(report.store),
    ...slackRow(report.slack),
    ...engineRows(),
    ...webhooksRow(report.webhooks),
  ];
  return markdownTable(
    ['measurement', 'Greenlight', 'Go peer', 'vs peer', 'ceiling', 'vs ceiling', 'targets', 'verdict'],
    rows,
  );
}

const cpuPerThousand = (run: RunResult, key: keyof RunResult['cpuSeconds']): string => {
  const seconds = run.cpuSeconds[key];
  return seconds === null ? '–' : formatOne((seconds / run.decided) * 1000);
};

function runsTable(report: Report): string {
  const runs = [
    ...report.runs.throughput,
    ...report.runs.latency,
    ...report.runs.burst,
    ...(report.webhooks ? [...report.webhooks.off, ...report.webhooks.on] : []),
  ];
  const rows = runs.map((run) => [
    `${run.label} (${deciderName(run.decider)})`,
    formatInteger(run.decided),
    formatOne(run.decisionsPerSecond),
    formatOne(run.createsPerSecond),
    formatOne(run.latency.p50Ms),
    formatOne(run.latency.p95Ms),
    formatOne(run.latency.p99Ms),
    formatOne(run.latency.maxMs),
    `${cpuPerThousand(run, 'controller')} / ${cpuPerThousand(run, 'apiserver')} / ${cpuPerThousand(run, 'etcd')} / ${cpuPerThousand(run, 'bench')}`,
    run.controller?.peakRssMiB === undefined ? '–' : formatOne(run.controller.peakRssMiB),
    `${formatOne(run.loadAverage.before)} → ${formatOne(run.loadAverage.after)}`,
    `${run.retries} / ${run.failures} / ${run.wrongOutcomes}`,
  ]);
  return markdownTable(
    [
      'run',
      'decided',
      'decisions/s',
      'creates/s',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'max ms',
      'CPU s per 1,000: controller / apiserver / etcd / bench',
      'controller peak RSS MiB',
      'load 1m',
      'retries / failed / wrong',
    ],
    rows,
  );
}

function storeTable(store: StoreResult): string {
  const rows = store.steps.flatMap((step) => {
    const sides: [string, StoreSide][] = [['Greenlight', step]];
    if (step.peer) sides.push(['Go peer', step.peer]);
    return sides.map(([name, { controller: start, rssSamplesMiB }]) => [
      `${formatInteger(step.stored)} (${formatInteger(step.counts.approve + step.counts.deny)} decided, ${formatInteger(step.counts.escalate)} escalated)`,
      name,
      `${formatInteger(step.objectBytes.decided)} B (${formatInteger(step.objectBytes.managedFields)} B managedFields)`,
      `${formatOne(step.storeSeconds)} s (${formatInteger(step.storedPerSecond)}/s)`,
      formatOne(start.readyMs / 1000),
      `${formatOne(start.firstDecisionMs / 1000)} (${formatInteger(start.late)} waiting)`,
      formatOne(start.caughtUpMs / 1000),
      rssSamplesMiB.length > 1
        ? `${formatOne(start.rssMiB)} (${rssSamplesMiB.map(formatOne).join(', ')})`
        : formatOne(start.rssMiB),
      formatOne(start.peakRssMiB),
      formatOne(start.heapUsedMiB),
      formatInteger(start.idleMillicores),
      formatOne(start.startupCpuSeconds),
      `${formatOne(start.loadAverage.before)} → ${formatOne(start.loadAverage.after)}`,
    ]);
  });
  return markdownTable(
    [
      'stored',
      'controller',
      'one decided object',
      'stored in',
      'ready s',
      'first decision s',
      'caught up s',
      'RSS MiB',
      'peak RSS MiB',
      'heap used MiB',
      'idle CPU m',
      'start-up CPU s',
      'load 1m',
    ],
    rows,
  );
}

/** ", node --max-opt=2, NODE_ENV=production MALLOC_ARENA_MAX=2": what else the image runs with. */
function imageRuntimeText(image: Report['controllerImage']): string {
  if (!image) return '';
  const flags = image.nodeFlags.length > 0 ? `, \`node ${image.nodeFlags.join(' ')}\`` : '';
  const env = Object.entries(image.env).map(([name, value]) => `${name}=${value}`);
  return `${flags}${env.length > 0 ? `, \`${env.join(' ')}\`` : ''}`;
}

function profileSection(profiles: Report['profiles']): string {
  const labels = Object.keys(profiles);
  if (labels.length === 0) return '';
  const blocks = labels.map((label) => {
    const profile = profiles[label];
    if (!profile) return '';
    const areas = profile.areas
      .slice(0, 8)
      .map((area) => `${area.area} ${formatOne(area.percent)} %`)
      .join(', ');
    return `- \`${label}\`: busy ${formatInteger(profile.busyMs)} ms — ${areas}`;
  });
  return `\nWhere the controller's CPU went (\`--cpu-prof\`, self time by area):\n\n${blocks.join('\n')}\n`;
}

/**
 * A results file (controller.json) as a Report. Files written before the fixes and the image's
 * NODE_OPTIONS were in the product (with `fixes`, without `controllerNodeOptions`) are refused.
 */
export function parseReport(json: string, file: string): Report {
  const report = JSON.parse(json) as Partial<Report> & { fixes?: unknown };
  if (report.benchmark !== 'controller') throw new Error(`${file} is not a controller benchmark result`);
  if ('fixes' in report || typeof report.controllerNodeOptions !== 'string') {
    throw new Error(
      `${file} was written by an older benchmark (with --fixes runs, without the controller's NODE_OPTIONS); ` +
        'run `node bench/controller.ts` again to get a result this report can render',
    );
  }
  return report as Report;
}

/** How many signatures were verified, and how many results were written while decisions were measured. */
function webhooksNote(webhooks: WebhookResult): string {
  const { verified, signatures, receiverCpuSecondsPer1000: receiverCpu } = webhooks;
  const sample =
    verified === undefined
      ? ''
      : signatures === undefined
        ? ` The receiver answers 204 without parsing; ${formatInteger(verified)} deliveries, a sample, had their signatures verified after each run.`
        : ` The receiver (bench/receiver, Go) verified the signature of every delivery: ${formatInteger(signatures.valid)} held, ${formatInteger(signatures.invalid)} did not; ${formatInteger(verified)}, a sample, were verified again with the standardwebhooks package after each run.`;
  const cpu =
    receiverCpu === undefined
      ? ''
      : ` The receiver's own CPU: ${receiverCpu.toFixed(3)} s per 1,000 deliveries.`;
  const writes = webhooks.on.map((run) => run.webhookResultWrites);
  const written = writes.every((count) => count !== undefined)
    ? ` Results written on requests while decisions were measured: ${writes.join(', ')}.`
    : '';
  return `${sample}${cpu}${written}`;
}

export function renderReport(report: Report): string {
  const m = report.machine;
  const settingsNote = report.quick ? ' **`--quick`: scaled-down sizes, a smoke test, not figures.**' : '';
  const scaled = report.store?.scaledDown
    ? `\n\n**Scaled down:** the store was meant to reach ${formatInteger(report.store.scaledDown.asked)} requests; it ran with ${formatInteger(report.store.scaledDown.ran)} (${report.store.scaledDown.why}).`
    : '';
  const slack = report.slack;
  const pendingSlack =
    slack?.status === 'pending'
      ? `\n\nSlack: ${slack.reason ?? 'pending'}.`
      : slack
        ? `\n\nSlack on: ${slack.slackCalls ?? 0} Web API calls during the Slack-on runs, ${slack.messagesPosted ?? 0} of them chat.postMessage (${slack.rateLimited ?? 0} answered 429; the emulator allows 1 message a second per channel, like Slack), for ${(slack.on ?? []).reduce((sum, run) => sum + run.decided, 0)} decisions.`
        : '';
  const webhooks = report.webhooks
    ? `\n\nWebhooks on: every decision POSTed, signed, to a local automation server; ${formatInteger(report.webhooks.delivered)} of ${formatInteger(report.webhooks.decisions)} delivered (warm-ups included), the last at most ${formatOne(report.webhooks.drainSeconds)} s after the run's last decision${report.webhooks.recordedSeconds === undefined ? '' : `, every result written on its request at most ${formatOne(report.webhooks.recordedSeconds)} s after it`}.${webhooksNote(report.webhooks)}`
    : '';
  return [
    `Run ${report.startedAt.slice(0, 16).replace('T', ' ')} UTC, ${formatOne(report.minutes)} minutes: \`${report.command}\`${settingsNote}`,
    `Machine: ${m.os}, ${m.cpuCount} vCPUs (${m.cpuModel}), ${formatOne(m.memoryGiB)} GiB, Node.js ${m.node}; ${report.controlPlane ?? 'etcd v3.6.16 and kube-apiserver v1.35.4'} (local, Go-built) on the same machine; the Go peer (bench/peer) built with Go ${report.peerGo ?? '–'} and controller-runtime ${report.peerControllerRuntime ?? '–'}; controller \`--concurrency\` ${report.controllerConcurrency}${report.controllerConcurrencyIsDefault ? ' (its default)' : ''}, run ${report.controllerFrom === 'dist' ? 'compiled and bundled' : 'from the TypeScript sources'} with \`NODE_OPTIONS=${report.controllerNodeOptions}\`${imageRuntimeText(report.controllerImage)}, as the container image runs it. One-minute load average ${formatOne(report.loadAverage1m.before)} before, ${formatOne(report.loadAverage1m.after)} after (per run below).${scaled}${pendingSlack}${webhooks}`,
    '',
    summaryTable(report),
    '',
    'Every run:',
    '',
    runsTable(report),
    ...(report.store
      ? [
          '',
          report.store.steps.some((step) => step.peer)
            ? "Memory and start-up (each controller as a child process over the same store, starts in turn; the peer's heap is Go's live heap, `go_memstats_heap_alloc_bytes`):"
            : 'Memory and start-up (controller as a child process, one namespace):',
          '',
          storeTable(report.store),
        ]
      : []),
    profileSection(report.profiles),
  ].join('\n');
}

/** Replaces the generated block of docs/benchmarks.md (between the markers) with `markdown`. */
export function updateDocs(markdown: string): void {
  const docs = readFileSync(DOCS, 'utf8');
  const begin = docs.indexOf(BEGIN);
  const end = docs.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`docs/benchmarks.md has no ${BEGIN} … ${END} block`);
  writeFileSync(DOCS, `${docs.slice(0, begin + BEGIN.length)}\n\n${markdown.trim()}\n\n${docs.slice(end)}`);
}
