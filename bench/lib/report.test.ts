import { describe, expect, it } from 'vitest';
import { parseReport, renderReport, type Report } from './report.ts';
import { deciderName, describeSchedule, type Decider, type RunResult, type Schedule } from './runs.ts';
import type { StoreStep } from './store.ts';

const CEILING: Decider = { kind: 'ceiling', events: true };
const GREENLIGHT: Decider = { kind: 'greenlight' };
const PEER: Decider = { kind: 'peer' };
const IN_FLIGHT: Schedule = { kind: 'in-flight', count: 3_000, concurrency: 32 };

/** What the benchmark reads from a controller after a run. */
const FIGURES = {
  reconciles: 1_000,
  meanReconcileMs: 5,
  requeues: 0,
  eventLoopLagP99Ms: undefined,
  rssMiB: 100,
  peakRssMiB: 110,
  cpuProfile: undefined,
};

/** `count` samples of `ms`. */
const times = (count: number, ms: number): number[] => Array.from({ length: count }, () => ms);

function run(label: string, decider: Decider, figures: Partial<RunResult> = {}): RunResult {
  const latency = { count: 3_000, p50Ms: 10, p95Ms: 20, p99Ms: 30, maxMs: 40 };
  return {
    label,
    decider,
    schedule: IN_FLIGHT,
    count: 3_000,
    decided: 3_000,
    wrongOutcomes: 0,
    seconds: 30,
    decisionsPerSecond: 100,
    createsPerSecond: 120,
    latency,
    latencySamplesMs: [10, 20, 30],
    createLatency: latency,
    cpuSeconds: { controller: 3, apiserver: 6, etcd: 1.5, bench: 1.5 },
    retries: 0,
    failures: 0,
    failureMessages: [],
    loadAverage: { before: 0.5, after: 1.5 },
    observerRestarts: 0,
    ...figures,
  };
}

function step(stored: number, rssSamplesMiB: readonly number[], readyMs: number): StoreStep {
  const rssMiB = [...rssSamplesMiB].sort((a, b) => a - b)[Math.floor((rssSamplesMiB.length - 1) / 2)] ?? 0;
  return {
    asked: stored,
    stored,
    counts: { approve: stored * 0.4, deny: stored * 0.4, escalate: stored * 0.2 },
    storeSeconds: 20,
    storedPerSecond: 500,
    objectBytes: { decided: 3_100, escalated: 2_900, managedFields: 900 },
    failures: 0,
    retries: 0,
    controller: {
      late: stored / 1_000,
      readyMs,
      firstDecisionMs: readyMs + 1_000,
      lateDecidedMs: readyMs + 1_500,
      caughtUpMs: readyMs + 2_000,
      memory: { rssBytes: 0, peakRssBytes: 0, heapUsedBytes: 0, heapTotalBytes: 0 },
      rssMiB,
      peakRssMiB: rssMiB + 10,
      heapUsedMiB: 40,
      idleMillicores: 2,
      startupCpuSeconds: 3.25,
      loadAverage: { before: 1, after: 1.2 },
    },
    rssSamplesMiB,
  };
}

function report(overrides: Partial<Report> = {}): Report {
  return {
    benchmark: 'controller',
    generatedAt: '2026-05-04T10:40:00.000Z',
    startedAt: '2026-05-04T10:00:12.345Z',
    minutes: 40,
    quick: false,
    command: 'node bench/controller.ts',
    settings: {},
    controllerConcurrency: 8,
    controllerConcurrencyIsDefault: true,
    controllerFrom: 'dist',
    controllerNodeOptions: '--max-semi-space-size=1',
    machine: {
      os: 'Linux 6.8 (linux/x64)',
      cpuModel: 'Test CPU',
      cpuCount: 2,
      availableParallelism: 2,
      memoryGiB: 7.8,
      node: 'v24.11.0',
      v8: '13.6',
    },
    loadAverage1m: { before: 0.25, after: 1.75 },
    runs: {
      throughput: [
        run('throughput-ceiling-1', CEILING, { decisionsPerSecond: 100 }),
        run('throughput-greenlight-1', GREENLIGHT, { decisionsPerSecond: 85 }),
        run('throughput-peer-1', PEER, {
          decisionsPerSecond: 90,
          cpuSeconds: { controller: 2.4, apiserver: 6, etcd: 1.5, bench: 1.5 },
        }),
        run('throughput-peer-2', PEER, { decisionsPerSecond: 80 }),
        run('throughput-greenlight-2', GREENLIGHT, { decisionsPerSecond: 95 }),
        run('throughput-ceiling-2', CEILING, { decisionsPerSecond: 110 }),
        run('throughput-ceiling-no-events', { kind: 'ceiling', events: false }, { decisionsPerSecond: 500 }),
      ],
      // Pooled: the ceiling's 200 samples are 5 ms (100×), 8 ms (98×), 10 ms (2×); Greenlight's second
      // run alone stalled (its slowest 1 % is 35 ms), which the pooled p99 of 200 samples leaves out.
      latency: [
        run('latency-ceiling-1', CEILING, {
          latencySamplesMs: [...times(50, 5), ...times(49, 8), 10],
        }),
        run('latency-greenlight-1', GREENLIGHT, {
          latencySamplesMs: [...times(50, 12), ...times(50, 20)],
        }),
        run('latency-greenlight-2', GREENLIGHT, {
          latencySamplesMs: [...times(50, 12), ...times(49, 25.25), 35],
        }),
        run('latency-peer-1', PEER, { latencySamplesMs: [...times(50, 10), ...times(50, 30)] }),
        run('latency-peer-2', PEER, { latencySamplesMs: [...times(50, 10), ...times(50, 30)] }),
        run('latency-ceiling-2', CEILING, {
          latencySamplesMs: [...times(50, 5), ...times(49, 8), 10],
        }),
      ],
      burst: [
        run('burst-ceiling-1', CEILING, { seconds: 8 }),
        run('burst-greenlight-1', GREENLIGHT, {
          seconds: 20,
          count: 1_000,
          controller: { ...FIGURES, peakRssMiB: 120 },
        }),
        run('burst-peer-1', PEER, { seconds: 16, count: 1_000, controller: { ...FIGURES, peakRssMiB: 80 } }),
        run('burst-ceiling-2', CEILING, { seconds: 12 }),
      ],
    },
    store: { steps: [step(10_000, [150.2, 148.1, 152.3], 2_000), step(100_000, [620], 12_000)] },
    slack: {
      status: 'measured',
      off: [
        run('slack-off-1', { kind: 'greenlight', notify: true }, { decisionsPerSecond: 78 }),
        run('slack-off-2', { kind: 'greenlight', notify: true }, { decisionsPerSecond: 82 }),
      ],
      on: [
        run('slack-on-1', { kind: 'greenlight', notify: true, env: {} }, { decisionsPerSecond: 80 }),
        run('slack-on-2', { kind: 'greenlight', notify: true, env: {} }, { decisionsPerSecond: 82 }),
      ],
      costPercent: -1.2,
      slackCalls: 3_010,
      messagesPosted: 3_000,
      rateLimited: 0,
    },
    profiles: {},
    ...overrides,
  };
}

/** The cells of the summary row whose first cell starts with `prefix`. */
function summaryRow(markdown: string, prefix: string): string[] {
  const line = markdown.split('\n').find((each) => each.startsWith(`| ${prefix}`));
  if (!line) throw new Error(`no row starting with ${prefix}`);
  return line
    .split('|')
    .slice(1, -1)
    .map((cell) => cell.trim());
}

describe('renderReport', () => {
  const markdown = renderReport(report());

  it("names the image's node flags and environment beside its NODE_OPTIONS, when the results have them", () => {
    const machineLine = (text: string): string =>
      text.split('\n').find((line) => line.startsWith('Machine:')) ?? '';
    expect(machineLine(markdown)).toContain(
      'with `NODE_OPTIONS=--max-semi-space-size=1`, as the container image runs it.',
    );
    const withImage = renderReport(
      report({
        controllerImage: {
          env: { NODE_ENV: 'production', MALLOC_ARENA_MAX: '2' },
          nodeFlags: ['--max-opt=2'],
        },
      }),
    );
    expect(machineLine(withImage)).toContain(
      'with `NODE_OPTIONS=--max-semi-space-size=1`, `node --max-opt=2`, `NODE_ENV=production MALLOC_ARENA_MAX=2`, as the container image runs it.',
    );
  });

  it('compares the median throughput with the Go peer’s median and with the mean of the ceilings', () => {
    expect(summaryRow(markdown, '1–2. Throughput')).toEqual([
      '1–2. Throughput, 3000 requests, 32 in flight: decisions/s',
      '85.0/s (median of 85.0/s, 95.0/s)',
      '80.0/s (median of 90.0/s, 80.0/s)',
      '1.06×',
      '105.0/s (mean of 100.0/s, 110.0/s)',
      '0.81×',
      '≥ 1.0× peer; ≥ 0.80× ceiling',
      'peer **met**; ceiling **met**',
    ]);
  });

  it('judges the controller’s own CPU per decision against the peer’s', () => {
    expect(summaryRow(markdown, '1–2. Controller CPU')).toEqual([
      '1–2. Controller CPU per decision (throughput)',
      '1.0 ms (median of 1.0 ms, 1.0 ms)',
      '0.8 ms (median of 0.8 ms, 1.0 ms)',
      '1.25×',
      '',
      '',
      '≤ 1.0× peer',
      'peer **missed**',
    ]);
  });

  it('pools the latencies of each side; misses the ceiling target above 3×, meets the peer’s', () => {
    expect(summaryRow(markdown, '3. Latency')).toEqual([
      '3. Latency p50 / p95 / p99, 2 × 3000 requests, 32 in flight (runs pooled)',
      '12.0 / 25.3 / 25.3 ms',
      '10.0 / 30.0 / 30.0 ms',
      '0.84× (p99)',
      '5.0 / 8.0 / 8.0 ms',
      '3.16× (p99)',
      'p99 ≤ 1.0× peer; ≤ 3× ceiling',
      'peer **met**; ceiling **missed**',
    ]);
  });

  it('compares the burst’s throughput with the peer’s, its time with the ceilings’, and its peak RSS', () => {
    expect(summaryRow(markdown, '4. Burst').slice(1)).toEqual([
      '20.0 s',
      '16.0 s',
      '0.80× (throughput)',
      '10.0 s (mean of 8.0 s, 12.0 s)',
      '2.00× (time)',
      'throughput ≥ 1.0× peer; time ≤ 2× ceiling',
      'peer **missed**; ceiling **met**',
    ]);
    expect(summaryRow(markdown, '4. Controller peak RSS').slice(1)).toEqual([
      '120.0 MiB',
      '80.0 MiB',
      '1.50×',
      '',
      '',
      '≤ 1.5× peer',
      'peer **met**',
    ]);
  });

  it('judges memory at 10,000 and 100,000 stored, naming the spread of the starts', () => {
    expect(summaryRow(markdown, '5. Memory with 10,000 stored')).toEqual([
      '5. Memory with 10,000 stored: RSS (heap used)',
      '150.2 MiB (40.0 MiB), median of 3 starts (148.1–152.3)',
      '',
      '',
      '',
      '',
      'RSS ≤ 150 MiB',
      '**missed**',
    ]);
    expect(summaryRow(markdown, '5. Memory with 100,000 stored').slice(1)).toEqual([
      '620.0 MiB (40.0 MiB)',
      '',
      '',
      '',
      '',
      'RSS ≤ 600 MiB',
      '**missed**',
    ]);
    expect(summaryRow(markdown, '5. Start-up with 100,000 stored').slice(1)).toEqual([
      '12.0 s / 13.0 s',
      '',
      '',
      '',
      '',
      'ready ≤ 10 s at 100k',
      '**missed**',
    ]);
  });

  it("puts the Go peer's starts over the same store beside Greenlight's, with the ratio", () => {
    const withPeer = (stored: number, greenlightMiB: number, peerMiB: number, readyMs: number): StoreStep => {
      const { controller, rssSamplesMiB } = step(stored, [peerMiB], readyMs * 2);
      return {
        ...step(stored, [greenlightMiB], readyMs),
        peer: { controller, rssSamplesMiB, readySamplesMs: [readyMs * 2] },
      };
    };
    const both = renderReport(
      report({ store: { steps: [withPeer(10_000, 140, 200, 1_000), withPeer(100_000, 330, 1_100, 5_000)] } }),
    );
    expect(summaryRow(both, '5. Memory with 10,000 stored').slice(1, 4)).toEqual([
      '140.0 MiB (40.0 MiB)',
      '200.0 MiB (40.0 MiB)',
      '0.70×',
    ]);
    expect(summaryRow(both, '5. Memory with 100,000 stored').slice(1, 4)).toEqual([
      '330.0 MiB (40.0 MiB)',
      '1,100.0 MiB (40.0 MiB)',
      '0.30×',
    ]);
    expect(summaryRow(both, '5. Start-up with 100,000 stored').slice(1, 4)).toEqual([
      '5.0 s / 6.0 s',
      '10.0 s / 11.0 s',
      '0.50× (ready)',
    ]);
    // The store table: one row per controller and size.
    const rows = both.split('\n').filter((line) => line.startsWith('| 100,000 ('));
    expect(rows.map((line) => line.split('|')[2]?.trim())).toEqual(['Greenlight', 'Go peer']);
  });

  it('calls a store size that is not a target n/a rather than met', () => {
    const quick = renderReport(report({ quick: true, store: { steps: [step(3_000, [90], 500)] } }));
    expect(summaryRow(quick, '5. Memory with 3,000 stored').at(-1)).toBe('n/a (3,000 is not a target size)');
    expect(summaryRow(quick, '5. Start-up with 3,000 stored').at(-1)).toBe('n/a (3,000 stored)');
    expect(quick).toContain('**`--quick`: scaled-down sizes, a smoke test, not figures.**');
  });

  it('counts a Slack run faster than the one without Slack as no measurable cost', () => {
    expect(summaryRow(markdown, '6. Slack on vs off').slice(1)).toEqual([
      '81.0 (mean of 80.0, 82.0) vs 80.0 (mean of 78.0, 82.0) /s',
      '',
      '',
      '',
      '-1.2 %',
      '≤ 5 %',
      '**met** (no cost measurable)',
    ]);
  });

  it('reports what decision webhooks cost, and how many deliveries arrived', () => {
    const webhook = { url: 'http://127.0.0.1:1/', secret: 'whsec_x' };
    const onCpu = { controller: 4.5, apiserver: 6, etcd: 1.5, bench: 1.5 };
    const withWebhooks = renderReport(
      report({
        webhooks: {
          status: 'measured',
          off: [
            run('webhooks-off-1', { kind: 'greenlight' }, { decisionsPerSecond: 150 }),
            run('webhooks-off-2', { kind: 'greenlight' }, { decisionsPerSecond: 146 }),
          ],
          on: [
            run(
              'webhooks-on-1',
              { kind: 'greenlight', webhook },
              { decisionsPerSecond: 149, cpuSeconds: onCpu },
            ),
            run(
              'webhooks-on-2',
              { kind: 'greenlight', webhook },
              { decisionsPerSecond: 145, cpuSeconds: onCpu },
            ),
          ],
          costPercent: 0.7,
          delivered: 2_100,
          decisions: 2_100,
          drainSeconds: 1.2,
          recordedSeconds: 3.4,
          verified: 106,
          signatures: { valid: 2_100, invalid: 0 },
          receiverCpuSecondsPer1000: 0.021,
        },
      }),
    );
    expect(summaryRow(withWebhooks, '8. Webhooks on vs off').slice(1)).toEqual([
      '147.0 (mean of 149.0, 145.0) vs 148.0 (mean of 150.0, 146.0) /s',
      '',
      '',
      '',
      '0.7 %',
      'no measurable cost (the mean with webhooks within the span of the runs without)',
      '**met**',
    ]);
    expect(withWebhooks).toContain(
      "2,100 of 2,100 delivered (warm-ups included), the last at most 1.2 s after the run's last decision, every result written on its request at most 3.4 s after it.",
    );
    expect(withWebhooks).toContain(
      'The receiver (bench/receiver, Go) verified the signature of every delivery: 2,100 held, 0 did not; 106, a sample, were verified again with the standardwebhooks package after each run. ' +
        "The receiver's own CPU: 0.021 s per 1,000 deliveries.",
    );
    expect(summaryRow(withWebhooks, '8. Webhooks on vs off: controller CPU').slice(1)).toEqual([
      '1.50 (1.50, 1.50) vs 1.00 (1.00, 1.00)',
      '',
      '',
      '',
      '50.0 %',
      'within off vs off',
      'off runs span 1.00–1.00',
    ]);
    expect(deciderName({ kind: 'greenlight', webhook })).toBe('greenlight, webhooks on');
    // Results written before webhooks existed render without the row.
    expect(markdown).not.toContain('8. Webhooks');
  });

  it('lists every run with its decider, CPU per 1,000 decisions and errors', () => {
    expect(summaryRow(markdown, 'throughput-ceiling-no-events')[0]).toBe(
      'throughput-ceiling-no-events (ceiling (no events))',
    );
    expect(summaryRow(markdown, 'throughput-greenlight-1').slice(8)).toEqual([
      '1.0 / 2.0 / 0.5 / 0.5',
      '–',
      '0.5 → 1.5',
      '0 / 0 / 0',
    ]);
    expect(summaryRow(markdown, 'burst-peer-1')[0]).toBe('burst-peer-1 (Go peer)');
    expect(summaryRow(markdown, 'burst-peer-1')[9]).toBe('80.0');
  });

  it('heads the report with the run, the machine and the NODE_OPTIONS used', () => {
    const [first, second] = markdown.split('\n');
    expect(first).toBe('Run 2026-05-04 10:00 UTC, 40.0 minutes: `node bench/controller.ts`');
    expect(second).toContain('2 vCPUs (Test CPU), 7.8 GiB, Node.js v24.11.0');
    expect(second).toContain('`--concurrency` 8 (its default), run compiled and bundled');
    expect(second).toContain('with `NODE_OPTIONS=--max-semi-space-size=1`');
    // Results written before the control plane's versions were recorded name the old ones.
    expect(second).toContain('etcd v3.6.16 and kube-apiserver v1.35.4');
    const named = renderReport(report({ controlPlane: 'etcd v3.7.3 and kube-apiserver v1.37.2' }));
    expect(named.split('\n')[1]).toContain('etcd v3.7.3 and kube-apiserver v1.37.2 (local, Go-built)');
  });

  it('says when the store was scaled down, and why', () => {
    const scaled = renderReport(
      report({
        store: {
          steps: [step(10_000, [140], 2_000)],
          scaledDown: { asked: 100_000, ran: 70_000, why: 'storing at 500 requests/s' },
        },
      }),
    );
    expect(scaled).toContain(
      '**Scaled down:** the store was meant to reach 100,000 requests; it ran with 70,000 (storing at 500 requests/s).',
    );
    expect(summaryRow(scaled, '5. Memory with 10,000 stored').at(-1)).toBe('**met**');
  });
});

describe('parseReport', () => {
  it('reads a current results file', () => {
    const written = report();
    expect(parseReport(JSON.stringify(written), 'controller.json')).toEqual(written);
  });

  it('refuses the result of another benchmark', () => {
    expect(() => parseReport('{"benchmark":"policy-engine"}', 'engine.json')).toThrow(
      'engine.json is not a controller benchmark result',
    );
  });

  it('refuses files written by the older benchmark, with --fixes runs or without NODE_OPTIONS', () => {
    const withoutNodeOptions = JSON.stringify({ ...report(), controllerNodeOptions: undefined });
    expect(() => parseReport(withoutNodeOptions, 'old.json')).toThrow(
      /old\.json was written by an older benchmark/,
    );
    expect(() => parseReport(JSON.stringify({ ...report(), fixes: [] }), 'old.json')).toThrow(
      /run `node bench\/controller\.ts` again/,
    );
  });
});

describe('deciderName and describeSchedule', () => {
  it('names the deciders and schedules as the report shows them', () => {
    expect(deciderName({ kind: 'ceiling', events: true })).toBe('ceiling');
    expect(deciderName({ kind: 'ceiling', events: false })).toBe('ceiling (no events)');
    expect(deciderName({ kind: 'greenlight' })).toBe('greenlight');
    expect(deciderName({ kind: 'peer' })).toBe('Go peer');
    expect(deciderName({ kind: 'greenlight', notify: true })).toBe('greenlight, Slack off');
    expect(deciderName({ kind: 'greenlight', notify: true, env: { SLACK_BOT_TOKEN: 'x' } })).toBe(
      'greenlight, Slack on',
    );
    expect(describeSchedule(IN_FLIGHT)).toBe('3000 requests, 32 in flight');
    expect(describeSchedule({ kind: 'rate', count: 3_000, perSecond: 50 })).toBe('3000 requests at 50/s');
  });
});
