/**
 * One measured run: requests created in a fresh namespace on a schedule, decided either by a bare
 * client that writes the final status itself (the ceiling) or by the Greenlight controller (a child
 * process), each decision timed by the independent observer.
 */
import type { ApprovalRequest } from '../../src/api/v1alpha1/approval-request.ts';
import { createWorkspace } from './cluster.ts';
import { cpuSnapshot, cpuUsed, type BenchContext, type CpuUse } from './context.ts';
import { ControllerProcess, metricValue } from './controller-process.ts';
import { atFixedRate, inFlight, newCallStats, withRetry, type CallStats } from './load.ts';
import { DecisionObserver } from './observer.ts';
import { oneMinuteLoad, round, summarize, type LatencySummary } from './stats.ts';
import { EXPECTED_PHASE, paymentSpec, requestName, StatusWriter, type RequestKind } from './workload.ts';

export type Schedule =
  | { readonly kind: 'in-flight'; readonly count: number; readonly concurrency: number }
  | { readonly kind: 'rate'; readonly count: number; readonly perSecond: number };

export type Decider =
  | { readonly kind: 'ceiling'; readonly events: boolean }
  /** The Go controller-runtime peer (bench/peer): same requests, same rules, status + Event per decision. */
  | { readonly kind: 'peer' }
  | {
      readonly kind: 'greenlight';
      readonly env?: Readonly<Record<string, string>>;
      /** The policy announces every outcome in Slack. */
      readonly notify?: boolean;
      /** The policy POSTs every outcome to this decision webhook, signed with this secret. */
      readonly webhook?: { readonly url: string; readonly secret: string };
    };

/** What a phase does around one run, outside what is measured. */
export interface RunHooks {
  /** After the decisions are measured, before the controller stops (e.g. to let webhooks drain). */
  readonly afterMeasure?: (namespace: string, controller: ControllerProcess | undefined) => Promise<void>;
}

export interface ControllerFigures {
  readonly reconciles: number | undefined;
  readonly meanReconcileMs: number | undefined;
  readonly requeues: number | undefined;
  readonly eventLoopLagP99Ms: number | undefined;
  readonly rssMiB: number | undefined;
  /** The highest RSS of the process so far (VmHWM): what the run needed at its peak. */
  readonly peakRssMiB: number | undefined;
  readonly cpuProfile: string | undefined;
}

export interface RunResult {
  readonly label: string;
  readonly decider: Decider;
  readonly schedule: Schedule;
  readonly count: number;
  readonly decided: number;
  readonly wrongOutcomes: number;
  /** First create sent → last decision observed. */
  readonly seconds: number;
  readonly decisionsPerSecond: number;
  /** First create sent → last create answered. */
  readonly createsPerSecond: number;
  /** Create sent → `Decided=True` seen by the observer. */
  readonly latency: LatencySummary;
  /** Every one of those latencies (ms, 0.1 ms resolution), to pool runs of the same kind. */
  readonly latencySamplesMs: readonly number[];
  /** Create sent → create answered. */
  readonly createLatency: LatencySummary;
  /** CPU seconds each process spent during the measured part. */
  readonly cpuSeconds: CpuUse;
  readonly retries: number;
  readonly failures: number;
  readonly failureMessages: readonly string[];
  /** How late the last fixed-rate start was (the generator's own lag). */
  readonly lateStartMs?: number;
  readonly loadAverage: { readonly before: number; readonly after: number };
  readonly controller?: ControllerFigures;
  readonly observerRestarts: number;
  /**
   * Webhook results written on decided requests while the run was measured (seen by the observer):
   * each is a status write that competes with the decisions. Absent in older results.
   */
  readonly webhookResultWrites?: number;
}

const kindOf = (index: number): RequestKind => (index % 2 === 0 ? 'approve' : 'deny');

type DecideOne = (name: string, index: number, onCreated: () => void) => Promise<void>;

function ceilingCall(context: BenchContext, namespace: string, events: boolean, stats: CallStats): DecideOne {
  const writer = new StatusWriter(namespace);
  return async (name, index, onCreated) => {
    const spec = paymentSpec(index, kindOf(index), context.bench.requester);
    const created = await withRetry(stats, () => context.ciApi.createRequest(namespace, name, spec));
    onCreated();
    const status = writer.statusFor(created, new Date());
    const updated: ApprovalRequest = await withRetry(stats, () =>
      context.adminApi.replaceRequestStatus(created, status),
    );
    const decision = status.decision;
    if (events && decision) {
      await context.events.record(
        updated,
        decision.outcome === 'Approved' ? 'Normal' : 'Warning',
        decision.outcome,
        `${decision.outcome} by ${decision.decidedBy}: ${decision.reason}`,
      );
    }
  };
}

function greenlightCall(context: BenchContext, namespace: string, stats: CallStats): DecideOne {
  return async (name, index, onCreated) => {
    const spec = paymentSpec(index, kindOf(index), context.bench.requester);
    await withRetry(stats, () => context.ciApi.createRequest(namespace, name, spec));
    onCreated();
  };
}

async function controllerFigures(
  controller: ControllerProcess,
): Promise<Omit<ControllerFigures, 'cpuProfile'>> {
  const text = await controller.metrics();
  const label = 'controller="approvalrequest"';
  const sum = metricValue(text, 'controller_runtime_reconcile_time_seconds_sum', label);
  const count = metricValue(text, 'controller_runtime_reconcile_time_seconds_count', label);
  const lag = metricValue(text, 'nodejs_eventloop_lag_p99_seconds');
  const memory = await controller.memory();
  return {
    reconciles: count,
    meanReconcileMs: sum === undefined || !count ? undefined : round((sum / count) * 1000, 2),
    requeues: metricValue(text, 'controller_runtime_reconcile_total', `${label},result="requeue"`),
    eventLoopLagP99Ms: lag === undefined ? undefined : round(lag * 1000, 1),
    rssMiB: round(memory.rssBytes / 2 ** 20),
    peakRssMiB: round(memory.peakRssBytes / 2 ** 20),
  };
}

export function deciderName(decider: Decider): string {
  if (decider.kind === 'ceiling') return decider.events ? 'ceiling' : 'ceiling (no events)';
  if (decider.kind === 'peer') return 'Go peer';
  const base = 'greenlight';
  if (decider.env) return `${base}, Slack on`;
  if (decider.webhook) return `${base}, webhooks on`;
  return decider.notify ? `${base}, Slack off` : base;
}

async function runSchedule(schedule: Schedule, stats: CallStats, task: (index: number) => Promise<void>) {
  return schedule.kind === 'in-flight'
    ? inFlight(schedule.count, schedule.concurrency, stats, task).then(() => ({ lateStartsMs: undefined }))
    : atFixedRate(schedule.count, schedule.perSecond, stats, task);
}

export async function measureRun(
  context: BenchContext,
  label: string,
  decider: Decider,
  schedule: Schedule,
  hooks: RunHooks = {},
): Promise<RunResult> {
  const namespace = `bench-${label}`;
  context.progress(`▶ ${label}: ${deciderName(decider)}, ${describeSchedule(schedule)}`);
  await createWorkspace(context.bench.admin, namespace, {
    notify: decider.kind === 'greenlight' && decider.notify === true,
    webhook: decider.kind === 'greenlight' ? decider.webhook : undefined,
  });
  const observer = await DecisionObserver.start(context.bench.admin, namespace);
  const stats = newCallStats();
  let controller: ControllerProcess | undefined;
  try {
    if (decider.kind !== 'ceiling') {
      controller = await ControllerProcess.start({
        label,
        entry: context.controllerEntry,
        binary: decider.kind === 'peer' ? context.peerBinary : undefined,
        nodeOptions: context.controllerNodeOptions,
        nodeFlags: decider.kind === 'peer' ? undefined : context.controllerNodeFlags,
        namespace,
        kubeconfig: context.bench.cluster.kubeconfigs.admin,
        logDir: context.logDir,
        concurrency: context.controllerConcurrency,
        cpuProfileDir: decider.kind === 'peer' ? undefined : context.cpuProfileDir,
        env: decider.kind === 'peer' ? undefined : { ...context.controllerEnv, ...decider.env },
      });
      await controller.waitReady(60_000);
    }
    const decideOne =
      decider.kind === 'ceiling'
        ? ceilingCall(context, namespace, decider.events, stats)
        : greenlightCall(context, namespace, stats);

    // Warm-up (not measured): JIT, connections, the controller's compiled policy.
    const warmup = context.warmup;
    await inFlight(warmup, 8, stats, (index) =>
      decideOne(requestName('warm', index), index, () => undefined),
    );
    await observer.until(() => observer.decided.size >= warmup - stats.failures, 60_000, 'the warm-up');

    const count = schedule.count;
    const sentAt = new Float64Array(count);
    const answeredAt = new Float64Array(count);
    const loadBefore = oneMinuteLoad();
    const cpuBefore = cpuSnapshot(context, controller);
    const resultWritesBefore = observer.webhookResultWrites;
    const started = performance.now();
    const generated = await runSchedule(schedule, stats, (index) => {
      sentAt[index] = performance.now();
      return decideOne(requestName('req', index), index, () => {
        answeredAt[index] = performance.now();
      });
    });
    const expected = warmup + count - stats.failures;
    await observer.until(
      () => observer.decided.size >= expected,
      60_000 + count * 100,
      `${count} decisions in ${namespace}`,
    );
    const cpuAfter = cpuSnapshot(context, controller);
    const resultWrites = observer.webhookResultWrites - resultWritesBefore;
    const loadAfter = oneMinuteLoad();
    const figures = controller ? await controllerFigures(controller) : undefined;

    const latencies: number[] = [];
    const createLatencies: number[] = [];
    let lastDecided = started;
    let lastAnswered = started;
    let wrongOutcomes = 0;
    for (let index = 0; index < count; index++) {
      const seen = observer.decided.get(requestName('req', index));
      if (!seen) continue;
      latencies.push(seen.at - (sentAt[index] ?? 0));
      createLatencies.push((answeredAt[index] ?? 0) - (sentAt[index] ?? 0));
      lastDecided = Math.max(lastDecided, seen.at);
      lastAnswered = Math.max(lastAnswered, answeredAt[index] ?? 0);
      if (seen.phase !== EXPECTED_PHASE[kindOf(index)]) wrongOutcomes++;
    }
    const seconds = (lastDecided - started) / 1000;
    await hooks.afterMeasure?.(namespace, controller);
    if (controller) await controller.stop();
    const result: RunResult = {
      label,
      decider,
      schedule,
      count,
      decided: latencies.length,
      wrongOutcomes,
      seconds: round(seconds, 2),
      decisionsPerSecond: round(latencies.length / seconds),
      createsPerSecond: round(latencies.length / ((lastAnswered - started) / 1000)),
      latency: summarize(latencies),
      latencySamplesMs: latencies.map((ms) => round(ms, 1)),
      createLatency: summarize(createLatencies),
      cpuSeconds: cpuUsed(cpuBefore, cpuAfter),
      retries: stats.retries,
      failures: stats.failures,
      failureMessages: stats.messages,
      ...(generated.lateStartsMs === undefined ? {} : { lateStartMs: round(generated.lateStartsMs) }),
      loadAverage: { before: loadBefore, after: loadAfter },
      ...(figures
        ? {
            controller: {
              ...figures,
              cpuProfile:
                context.cpuProfileDir && decider.kind === 'greenlight'
                  ? `${context.cpuProfileDir}/${label}.cpuprofile`
                  : undefined,
            },
          }
        : {}),
      observerRestarts: observer.restarts,
      ...(decider.kind === 'greenlight' && decider.webhook ? { webhookResultWrites: resultWrites } : {}),
    };
    context.progress(
      `  ${result.decided}/${count} decided in ${result.seconds}s: ${result.decisionsPerSecond}/s; ` +
        `latency p50 ${result.latency.p50Ms} ms, p99 ${result.latency.p99Ms} ms; ` +
        `CPU s controller ${String(result.cpuSeconds.controller)}, apiserver ${String(result.cpuSeconds.apiserver)}, ` +
        `etcd ${String(result.cpuSeconds.etcd)}, bench ${String(result.cpuSeconds.bench)}; ` +
        `retries ${result.retries}, failures ${result.failures}, wrong ${wrongOutcomes}` +
        (result.webhookResultWrites === undefined
          ? ''
          : `; webhook results written while measured ${result.webhookResultWrites}`),
    );
    return result;
  } finally {
    observer.stop();
    if (controller) await controller.stop();
  }
}

export function describeSchedule(schedule: Schedule): string {
  return schedule.kind === 'in-flight'
    ? `${schedule.count} requests, ${schedule.concurrency} in flight`
    : `${schedule.count} requests at ${schedule.perSecond}/s`;
}
