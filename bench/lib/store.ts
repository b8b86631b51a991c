/**
 * Memory and start-up with many requests stored. The requests are stored while no controller runs:
 * created by the CI pipeline, then given by this client the status Greenlight itself computes (decide +
 * nextStatus): 80 % final (approved or denied), 20 % Escalated, waiting for people — exactly the
 * status Greenlight would write, so a starting controller finds nothing to rewrite. Just before each
 * controller start, one request in 1,000 more is created and left undecided ("arrived while the
 * controller was down"): the controller decides those once it has started, which times its first
 * decision. The Go peer (bench/peer) starts over the same store, in turn with Greenlight, when the
 * benchmark built it.
 */
import { CustomObjectsApi } from '@kubernetes/client-node';
import { APPROVAL_REQUEST_PLURAL } from '../../src/api/v1alpha1/approval-request.ts';
import { GROUP, VERSION } from '../../src/api/v1alpha1/schema.ts';
import { createWorkspace } from './cluster.ts';
import { cpuSnapshot, type BenchContext } from './context.ts';
import { ControllerProcess, type MemorySample } from './controller-process.ts';
import { summarizeHeap, type HeapSummary } from './heap-snapshot.ts';
import { inFlight, newCallStats, withRetry } from './load.ts';
import { DecisionObserver } from './observer.ts';
import { MiB, oneMinuteLoad, round } from './stats.ts';
import { paymentSpec, requestName, StatusWriter, type RequestKind } from './workload.ts';

const NAMESPACE = 'bench-store';
const PREFIX = 'stored';

/** 80 % decided (approved and denied alike), 20 % escalated. */
export function storedAs(index: number): RequestKind {
  const slot = index % 10;
  if (slot >= 8) return 'escalate';
  return slot % 2 === 0 ? 'approve' : 'deny';
}

export interface StoreSettings {
  readonly sizes: readonly number[];
  readonly concurrency: number;
  /** How long the controller runs idle after catching up before memory is read. */
  readonly settleMs: number;
  /** Controller starts per size; the figures are the start with the median RSS (RSS varies by ±5 MiB). */
  readonly starts: number;
  /** Stop growing the store when the next size would not be done within this budget. */
  readonly budgetMinutes: number;
  /** Sizes are scaled down to multiples of this when the budget forces it. */
  readonly granularity: number;
}

/** One controller start over the store. */
export interface ControllerStart {
  /** Undecided requests waiting when it started. */
  readonly late: number;
  /** From the spawn: /readyz answers 200 (caches synced). */
  readonly readyMs: number;
  /** From the spawn: the first waiting request is seen decided by the observer. */
  readonly firstDecisionMs: number;
  readonly lateDecidedMs: number;
  /** From the spawn: the work queue is empty. */
  readonly caughtUpMs: number;
  readonly memory: MemorySample;
  readonly rssMiB: number;
  readonly peakRssMiB: number;
  readonly heapUsedMiB: number;
  /** Controller CPU while idle after catching up, in millicores. */
  readonly idleMillicores: number;
  /** Controller CPU from the spawn until caught up. */
  readonly startupCpuSeconds: number;
  /** What the live heap holds (--heap-snapshots). */
  readonly heap?: HeapSummary;
  readonly loadAverage: { readonly before: number; readonly after: number };
}

/** The starts of one controller, Greenlight or the Go peer, over one store size. */
export interface StoreSide {
  /** The start with the median RSS. */
  readonly controller: ControllerStart;
  /** RSS of every start, in MiB, in order. */
  readonly rssSamplesMiB: readonly number[];
  /** Spawn → ready of every start, in order (optional: absent in results of earlier runs). */
  readonly readySamplesMs?: readonly number[];
  /** Spawn → first decision of every start, in order (optional, as above). */
  readonly firstDecisionSamplesMs?: readonly number[];
}

/** Greenlight's starts (the step's own fields) and the peer's over the same store. */
export interface StoreStep extends StoreSide {
  readonly asked: number;
  readonly stored: number;
  readonly counts: Readonly<Record<RequestKind, number>>;
  /** Creating (and writing the status of) the objects added for this step. */
  readonly storeSeconds: number;
  readonly storedPerSecond: number;
  /** A decided and an escalated object as the API server returns them, serialized. */
  readonly objectBytes: {
    readonly decided: number;
    readonly escalated: number;
    readonly managedFields: number;
  };
  readonly failures: number;
  readonly retries: number;
  /** The Go peer's starts (absent in results of earlier runs, and when no peer was built). */
  readonly peer?: StoreSide;
}

export type StoreSideName = 'greenlight' | 'peer';

export interface StoreResult {
  readonly steps: readonly StoreStep[];
  /** Set when the budget did not allow the sizes asked for. */
  readonly scaledDown?: { readonly asked: number; readonly ran: number; readonly why: string };
}

async function storeRange(
  context: BenchContext,
  writer: StatusWriter,
  range: { from: number; to: number; concurrency: number },
) {
  const stats = newCallStats();
  await inFlight(range.to - range.from, range.concurrency, stats, async (offset) => {
    const index = range.from + offset;
    const spec = paymentSpec(index, storedAs(index), context.bench.requester);
    const created = await withRetry(stats, () =>
      context.ciApi.createRequest(NAMESPACE, requestName(PREFIX, index), spec),
    );
    const status = writer.statusFor(created, new Date());
    await withRetry(stats, () => context.adminApi.replaceRequestStatus(created, status));
  });
  return stats;
}

async function objectBytes(context: BenchContext): Promise<StoreStep['objectBytes']> {
  const decided = await context.adminApi.getRequest(NAMESPACE, requestName(PREFIX, 0));
  const escalated = await context.adminApi.getRequest(NAMESPACE, requestName(PREFIX, 8));
  const managedFields = (decided.metadata as { managedFields?: unknown }).managedFields ?? [];
  return {
    decided: JSON.stringify(decided).length,
    escalated: JSON.stringify(escalated).length,
    managedFields: JSON.stringify(managedFields).length,
  };
}

async function currentResourceVersion(context: BenchContext): Promise<string> {
  const list = (await context.bench.admin.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: NAMESPACE,
    plural: APPROVAL_REQUEST_PLURAL,
    limit: 1,
  })) as { metadata?: { resourceVersion?: string } };
  return list.metadata?.resourceVersion ?? '';
}

function countKinds(to: number): Record<RequestKind, number> {
  const counts: Record<RequestKind, number> = { approve: 0, deny: 0, escalate: 0 };
  for (let index = 0; index < to; index++) counts[storedAs(index)]++;
  return counts;
}

/** Creates undecided, decidable requests while no controller runs; returns their names. */
async function createLate(context: BenchContext, label: string, count: number): Promise<string[]> {
  const names = Array.from({ length: count }, (_, index) => requestName(`late-${label}`, index));
  const stats = newCallStats();
  await inFlight(count, 16, stats, async (index) => {
    const spec = paymentSpec(index, 'approve', context.bench.requester);
    await withRetry(stats, () => context.ciApi.createRequest(NAMESPACE, names[index] ?? '', spec));
  });
  if (stats.failures > 0)
    throw new Error(`could not create the undecided requests: ${stats.messages.join('; ')}`);
  return names;
}

/** Starts a controller over what is stored and measures start-up, catching up, and memory. */
async function measureStart(
  context: BenchContext,
  at: { stored: number; start: number; side: StoreSideName },
  settleMs: number,
): Promise<ControllerStart> {
  const label = storeStartLabel(at);
  const peer = at.side === 'peer';
  const lateNames = await createLate(
    context,
    `${peer ? 'peer-' : ''}${at.stored}-${at.start}`,
    Math.max(1, Math.round(at.stored / 1000)),
  );
  const observer = await DecisionObserver.start(
    context.bench.admin,
    NAMESPACE,
    await currentResourceVersion(context),
  );
  const loadBefore = oneMinuteLoad();
  // The node-only options (profiles, heap snapshots) are Greenlight's alone.
  const heapSnapshotDir = peer ? undefined : context.heapSnapshotDir;
  const controller = await ControllerProcess.start({
    label,
    entry: context.controllerEntry,
    binary: peer ? context.peerBinary : undefined,
    nodeOptions: context.controllerNodeOptions,
    nodeFlags: context.controllerNodeFlags,
    env: context.controllerEnv,
    namespace: NAMESPACE,
    kubeconfig: context.bench.cluster.kubeconfigs.admin,
    logDir: context.logDir,
    concurrency: context.controllerConcurrency,
    cpuProfileDir: peer ? undefined : context.cpuProfileDir,
    heapSnapshotDir,
  });
  try {
    const readyMs = await controller.waitReady(10 * 60_000);
    const seen = (name: string): number | undefined => observer.decided.get(name)?.at;
    await observer.until(
      () => lateNames.some((name) => seen(name) !== undefined),
      10 * 60_000,
      'a first decision',
    );
    const firstAt = Math.min(...lateNames.map((name) => seen(name) ?? Infinity));
    await observer.until(
      () => lateNames.every((name) => seen(name) !== undefined),
      10 * 60_000,
      'every waiting request decided',
    );
    const lateAt = Math.max(...lateNames.map((name) => seen(name) ?? 0));
    await controller.waitIdle(10 * 60_000);
    const caughtUpMs = performance.now() - controller.spawnedAt;
    const startupCpuSeconds = cpuSnapshot(context, controller).controller ?? Number.NaN;
    const idleStarted = performance.now();
    await new Promise((resolve) => setTimeout(resolve, settleMs));
    const idleCpu = (controller.cpuSeconds() ?? Number.NaN) - startupCpuSeconds;
    const idleMillicores = Math.round((idleCpu / ((performance.now() - idleStarted) / 1000)) * 1000);
    const memory = await controller.memory();
    const heap = heapSnapshotDir ? summarizeHeap(await controller.heapSnapshot(heapSnapshotDir)) : undefined;
    return {
      late: lateNames.length,
      readyMs: Math.round(readyMs),
      firstDecisionMs: Math.round(firstAt - controller.spawnedAt),
      lateDecidedMs: Math.round(lateAt - controller.spawnedAt),
      caughtUpMs: Math.round(caughtUpMs),
      memory,
      rssMiB: MiB(memory.rssBytes),
      peakRssMiB: MiB(memory.peakRssBytes),
      heapUsedMiB: MiB(memory.heapUsedBytes),
      idleMillicores,
      startupCpuSeconds: round(startupCpuSeconds, 2),
      ...(heap ? { heap } : {}),
      loadAverage: { before: loadBefore, after: oneMinuteLoad() },
    };
  } finally {
    observer.stop();
    await controller.stop();
  }
}

/**
 * The size to grow to: `asked`, or less when storing at the rate seen so far, plus the controller
 * starts, would overrun the budget.
 */
export function fitBudget(
  settings: StoreSettings,
  at: { asked: number; stored: number; rate: number; secondsLeft: number },
): { size: number; scaledDown?: NonNullable<StoreResult['scaledDown']> } {
  if (!Number.isFinite(at.rate)) return { size: at.asked };
  // The controller starts: listing (roughly 4,000 objects a second), catching up, settling.
  const startSeconds = (settings.settleMs / 1000 + 30 + at.asked / 4000) * settings.starts;
  const step = settings.granularity;
  const affordable = at.stored + Math.floor(((at.secondsLeft - startSeconds) * at.rate) / step) * step;
  if (affordable >= at.asked) return { size: at.asked };
  return {
    size: affordable,
    scaledDown: {
      asked: at.asked,
      ran: Math.max(affordable, at.stored),
      why: `storing at ${Math.round(at.rate)} requests/s, ${at.asked.toLocaleString('en-US')} would not fit in the ${settings.budgetMinutes}-minute budget of the memory measurement`,
    },
  };
}

function describe(start: ControllerStart): string {
  return (
    `ready ${start.readyMs} ms, first decision ${start.firstDecisionMs} ms, caught up ${start.caughtUpMs} ms; ` +
    `RSS ${start.rssMiB} MiB (peak ${start.peakRssMiB}), heap ${start.heapUsedMiB} MiB used of ${MiB(start.memory.heapTotalBytes)}, ` +
    `idle ${start.idleMillicores} m`
  );
}

/** The label of a controller start (its log file, its CPU profile). */
export function storeStartLabel(at: { stored: number; start: number; side: StoreSideName }): string {
  return `store-${at.side === 'peer' ? 'peer-' : ''}${at.stored}-${at.start}`;
}

/** The sides' starts at one size: Greenlight first in even starts, the peer first in odd ones. */
export function startOrder(start: number, withPeer: boolean): StoreSideName[] {
  if (!withPeer) return ['greenlight'];
  return start % 2 === 0 ? ['greenlight', 'peer'] : ['peer', 'greenlight'];
}

function side(starts: readonly ControllerStart[]): StoreSide {
  return {
    controller: medianByRss(starts),
    rssSamplesMiB: starts.map((start) => start.rssMiB),
    readySamplesMs: starts.map((start) => start.readyMs),
    firstDecisionSamplesMs: starts.map((start) => start.firstDecisionMs),
  };
}

export function medianByRss(starts: readonly ControllerStart[]): ControllerStart {
  const sorted = [...starts].sort((a, b) => a.rssMiB - b.rssMiB);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  if (!median) throw new Error('no controller start was measured');
  return median;
}

/** Grows the store through `sizes`, measuring freshly started controllers at each size. */
export async function measureStore(context: BenchContext, settings: StoreSettings): Promise<StoreResult> {
  await createWorkspace(context.bench.admin, NAMESPACE);
  const writer = new StatusWriter(NAMESPACE);
  const deadline = performance.now() + settings.budgetMinutes * 60_000;
  const steps: StoreStep[] = [];
  let stored = 0;
  let rate = Number.NaN;
  let scaledDown: StoreResult['scaledDown'];
  for (const asked of settings.sizes) {
    const secondsLeft = (deadline - performance.now()) / 1000;
    const budget = fitBudget(settings, { asked, stored, rate, secondsLeft });
    if (budget.scaledDown) scaledDown = budget.scaledDown;
    const size = budget.size;
    if (size <= stored) break;
    context.progress(`▶ store: growing to ${size} requests (${settings.concurrency} in flight)`);
    const started = performance.now();
    const stats = await storeRange(context, writer, {
      from: stored,
      to: size,
      concurrency: settings.concurrency,
    });
    const storeSeconds = (performance.now() - started) / 1000;
    rate = (size - stored) / storeSeconds;
    context.progress(`  stored ${size - stored} in ${storeSeconds.toFixed(1)}s (${Math.round(rate)}/s)`);
    const starts: Record<StoreSideName, ControllerStart[]> = { greenlight: [], peer: [] };
    for (let start = 0; start < settings.starts; start++) {
      for (const name of startOrder(start, context.peerBinary !== '')) {
        const measured = await measureStart(context, { stored: size, start, side: name }, settings.settleMs);
        starts[name].push(measured);
        context.progress(`  ${size} stored, ${name}: ${describe(measured)}`);
      }
    }
    steps.push({
      asked,
      stored: size,
      counts: countKinds(size),
      storeSeconds: round(storeSeconds),
      storedPerSecond: Math.round(rate),
      objectBytes: await objectBytes(context),
      failures: stats.failures,
      retries: stats.retries,
      ...side(starts.greenlight),
      ...(starts.peer.length > 0 ? { peer: side(starts.peer) } : {}),
    });
    stored = size;
    if (scaledDown) break;
  }
  return { steps, ...(scaledDown ? { scaledDown } : {}) };
}
