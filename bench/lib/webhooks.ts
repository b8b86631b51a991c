/**
 * Decision webhooks' cost: the same throughput run four times — without webhooks, with a policy that
 * POSTs every outcome to a local automation server (signed, as in production), again with it, and again
 * without — off, on, on, off, so that a drift in the shared machine's load weighs on both sides
 * (`--webhook-rounds N` repeats the four). The cost is the throughput lost, mean against mean; the
 * controller's CPU per decision, on against off, is the steadier figure (report.ts). After each run
 * with webhooks, the benchmark waits (outside what is measured) until every decision was delivered and
 * every result written on its request (the controller's outbox empty), and reports how many were and
 * how long that took.
 *
 * The automation server is bench/receiver, a small Go program (standard library only) that checks the
 * Standard Webhooks signature of every delivery, answers 204 when it holds and 401 when it does not,
 * and counts deliveries by the URL's last segment (each run's URL ends in its namespace). A user's
 * server would run on another machine; this one shares the two cores with the controller and the API
 * server, so it is kept as cheap per request as a plain, realistic server is, and its own CPU per 1,000
 * deliveries is reported. A delivery with a bad signature fails the phase. One delivery in 20 is kept
 * whole and verified once more after each run with the `standardwebhooks` package (`verifyKept`), an
 * implementation independent of both the controller's and the receiver's.
 */
import { randomBytes } from 'node:crypto';
import type { BenchContext } from './context.ts';
import type { ControllerProcess } from './controller-process.ts';
import { buildReceiver, startReceiver, type KeptDelivery, type Receiver } from './receiver.ts';
import { measureRun, type Decider, type RunResult, type Schedule } from './runs.ts';
import { round } from './stats.ts';
import { Webhook } from 'standardwebhooks';

export interface WebhookResult {
  readonly status: 'measured';
  readonly off: readonly RunResult[];
  readonly on: readonly RunResult[];
  /** 1 − mean on / mean off throughput, in percent. */
  readonly costPercent: number;
  /**
   * Deliveries the receiver answered 2xx during the webhook runs (since bench/receiver: those whose
   * signature it verified), and the decisions they had.
   */
  readonly delivered: number;
  readonly decisions: number;
  /** Largest time from a run's last decision to its last delivery. */
  readonly drainSeconds: number;
  /**
   * Largest time from a run's last decision until every result was written on its request: the
   * controller writes them after the decisions in flight (src/webhooks/outbox.ts).
   */
  readonly recordedSeconds?: number;
  /**
   * Deliveries whose Standard Webhooks signature the benchmark verified again with the `standardwebhooks`
   * package after each run (a sample; absent in older results).
   */
  readonly verified?: number;
  /**
   * The receiver's check of every delivery's signature: how many held and how many did not (any that
   * did not fails the phase). Absent in results from before bench/receiver.
   */
  readonly signatures?: { readonly valid: number; readonly invalid: number };
  /** The receiver's own CPU seconds per 1,000 deliveries, over the runs with webhooks. */
  readonly receiverCpuSecondsPer1000?: number;
}

/** Verifies the kept deliveries' signatures (and that each is about a request of `namespace`). */
export function verifyKept(kept: readonly KeptDelivery[], secret: string, namespace: string): number {
  const webhook = new Webhook(secret);
  let verified = 0;
  for (const { body, headers } of kept) {
    const event = webhook.verify(body, headers) as { source?: string };
    if (!event.source?.includes(`/namespaces/${namespace}/`)) {
      throw new Error(`a delivery for ${namespace} was about ${String(event.source)}`);
    }
    verified++;
  }
  return verified;
}

/**
 * The receiver's counts as the benchmark polls them: its kept deliveries gathered by segment (each read
 * hands them out once), and a loud failure as soon as any signature did not hold.
 */
class ReceiverCounter {
  readonly #receiver: Receiver;
  readonly #kept = new Map<string, KeptDelivery[]>();
  #counts = new Map<string, { delivered: number; invalid: number }>();
  connections = 0;

  constructor(receiver: Receiver) {
    this.#receiver = receiver;
  }

  async poll(): Promise<void> {
    const counts = await this.#receiver.counts();
    this.connections = counts.connections;
    this.#counts = new Map();
    for (const [segment, { delivered, invalid, kept }] of Object.entries(counts.segments)) {
      this.#counts.set(segment, { delivered, invalid });
      this.#kept.set(segment, [...(this.#kept.get(segment) ?? []), ...kept]);
      if (invalid > 0) {
        throw new Error(
          `the receiver refused ${invalid} deliveries to ${segment}: their Standard Webhooks signature did not hold`,
        );
      }
    }
  }

  delivered(segment: string): number {
    return this.#counts.get(segment)?.delivered ?? 0;
  }

  invalid(segment: string): number {
    return this.#counts.get(segment)?.invalid ?? 0;
  }

  /** The deliveries to `segment` kept since the last call. */
  takeKept(segment: string): KeptDelivery[] {
    const kept = this.#kept.get(segment) ?? [];
    this.#kept.delete(segment);
    return kept;
  }
}

export async function measureWebhooks(
  context: BenchContext,
  schedule: Schedule,
  rounds = 1,
): Promise<WebhookResult> {
  const binary = await buildReceiver(context.progress);
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const receiver = await startReceiver(binary, secret);
  try {
    const counter = new ReceiverCounter(receiver);
    // Each run's deliveries go to a URL of its own, so that the receiver counts them by URL alone.
    const on = (label: string): Decider => ({
      kind: 'greenlight',
      webhook: { url: `${receiver.url}/bench-${label}`, secret },
    });
    const off: Decider = { kind: 'greenlight' };
    const expected = schedule.count + context.warmup;
    let drainSeconds = 0;
    let recordedSeconds = 0;
    let verified = 0;
    const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 100));
    const drain = async (namespace: string, controller: ControllerProcess | undefined): Promise<void> => {
      const started = performance.now();
      const deadline = Date.now() + 60_000;
      await counter.poll();
      while (counter.delivered(namespace) < expected && Date.now() < deadline) {
        await pause();
        await counter.poll();
      }
      drainSeconds = Math.max(drainSeconds, round((performance.now() - started) / 1000, 1));
      const outboxEmpty = async (): Promise<boolean> =>
        /^greenlight_webhook_outbox_depth 0$/m.test((await controller?.metrics()) ?? '');
      while (controller && !(await outboxEmpty()) && Date.now() < deadline) await pause();
      recordedSeconds = Math.max(recordedSeconds, round((performance.now() - started) / 1000, 1));
      await counter.poll();
      verified += verifyKept(counter.takeKept(namespace), secret, namespace);
      context.progress(`  receiver: ${counter.connections} connections so far`);
    };
    const offRuns: RunResult[] = [];
    const onRuns: RunResult[] = [];
    // The receiver's CPU while the runs with webhooks went on (it idles otherwise).
    let receiverCpu = 0;
    const measureOn = async (label: string): Promise<RunResult> => {
      const cpuBefore = receiver.cpuSeconds();
      const run = await measureRun(context, label, on(label), schedule, { afterMeasure: drain });
      const cpuAfter = receiver.cpuSeconds();
      if (cpuBefore === undefined || cpuAfter === undefined) throw new Error('the receiver has exited');
      receiverCpu += cpuAfter - cpuBefore;
      context.progress(
        `  receiver: ${round(cpuAfter - cpuBefore, 2)} CPU s for ${counter.delivered(`bench-${label}`)} deliveries`,
      );
      return run;
    };
    // off, on, on, off in each round: a drift in the machine's load weighs on both sides.
    for (let r = 0; r < rounds; r++) {
      const [first, second] = [2 * r + 1, 2 * r + 2];
      offRuns.push(await measureRun(context, `webhooks-off-${first}`, off, schedule));
      for (const n of [first, second]) onRuns.push(await measureOn(`webhooks-on-${n}`));
      offRuns.push(await measureRun(context, `webhooks-off-${second}`, off, schedule));
    }
    await counter.poll();
    const throughput = (runs: readonly RunResult[]): number =>
      runs.reduce((sum, run) => sum + run.decisionsPerSecond, 0) / runs.length;
    const sum = (count: (segment: string) => number): number =>
      onRuns.reduce((total, run) => total + count(`bench-${run.label}`), 0);
    const delivered = sum((segment) => counter.delivered(segment));
    const invalid = sum((segment) => counter.invalid(segment));
    return {
      status: 'measured',
      off: offRuns,
      on: onRuns,
      costPercent: round((1 - throughput(onRuns) / throughput(offRuns)) * 100),
      delivered,
      decisions: onRuns.length * expected,
      drainSeconds,
      recordedSeconds,
      verified,
      signatures: { valid: delivered, invalid },
      receiverCpuSecondsPer1000: round((receiverCpu / Math.max(1, delivered + invalid)) * 1000, 3),
    };
  } finally {
    await receiver.stop();
  }
}
