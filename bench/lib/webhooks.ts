/**
 * Decision webhooks' cost: the same throughput run four times — without webhooks, with a policy that
 * POSTs every outcome to a local automation server (signed, as in production), again with it, and again
 * without — off, on, on, off, so that a drift in the shared machine's load weighs on both sides. The
 * cost is the throughput lost, mean against mean. After each run with webhooks, the benchmark waits
 * (outside what is measured) until every decision was delivered and every result written on its
 * request (the controller's outbox empty), and reports how many were and how long that took.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BenchContext } from './context.ts';
import type { ControllerProcess } from './controller-process.ts';
import { measureRun, type Decider, type RunResult, type Schedule } from './runs.ts';
import { round } from './stats.ts';

export interface WebhookResult {
  readonly status: 'measured';
  readonly off: readonly RunResult[];
  readonly on: readonly RunResult[];
  /** 1 − mean on / mean off throughput, in percent. */
  readonly costPercent: number;
  /** Deliveries the receiver answered 2xx during the webhook runs, and the decisions they had. */
  readonly delivered: number;
  readonly decisions: number;
  /** Largest time from a run's last decision to its last delivery. */
  readonly drainSeconds: number;
  /**
   * Largest time from a run's last decision until every result was written on its request: the
   * controller writes them after the decisions in flight (src/webhooks/outbox.ts).
   */
  readonly recordedSeconds?: number;
}

/** A receiver that answers 204 at once and counts deliveries by namespace (from the event's source). */
async function startReceiver(): Promise<{
  url: string;
  delivered: Map<string, number>;
  close: () => Promise<void>;
}> {
  const delivered = new Map<string, number>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const source = /namespaces\/([^/]+)\//.exec(Buffer.concat(chunks).toString('utf8'))?.[1] ?? '';
      delivered.set(source, (delivered.get(source) ?? 0) + 1);
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/greenlight`,
    delivered,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

export async function measureWebhooks(context: BenchContext, schedule: Schedule): Promise<WebhookResult> {
  const receiver = await startReceiver();
  try {
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const on: Decider = { kind: 'greenlight', webhook: { url: receiver.url, secret } };
    const off: Decider = { kind: 'greenlight' };
    const expected = schedule.count + context.warmup;
    let drainSeconds = 0;
    let recordedSeconds = 0;
    const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 100));
    const drain = async (namespace: string, controller: ControllerProcess | undefined): Promise<void> => {
      const started = performance.now();
      const deadline = Date.now() + 60_000;
      while ((receiver.delivered.get(namespace) ?? 0) < expected && Date.now() < deadline) await pause();
      drainSeconds = Math.max(drainSeconds, round((performance.now() - started) / 1000, 1));
      const outboxEmpty = async (): Promise<boolean> =>
        /^greenlight_webhook_outbox_depth 0$/m.test((await controller?.metrics()) ?? '');
      while (controller && !(await outboxEmpty()) && Date.now() < deadline) await pause();
      recordedSeconds = Math.max(recordedSeconds, round((performance.now() - started) / 1000, 1));
    };
    const offRuns = [await measureRun(context, 'webhooks-off-1', off, schedule)];
    const onRuns = [
      await measureRun(context, 'webhooks-on-1', on, schedule, { afterMeasure: drain }),
      await measureRun(context, 'webhooks-on-2', on, schedule, { afterMeasure: drain }),
    ];
    offRuns.push(await measureRun(context, 'webhooks-off-2', off, schedule));
    const throughput = (runs: readonly RunResult[]): number =>
      runs.reduce((sum, run) => sum + run.decisionsPerSecond, 0) / runs.length;
    const delivered = ['webhooks-on-1', 'webhooks-on-2'].reduce(
      (sum, label) => sum + (receiver.delivered.get(`bench-${label}`) ?? 0),
      0,
    );
    return {
      status: 'measured',
      off: offRuns,
      on: onRuns,
      costPercent: round((1 - throughput(onRuns) / throughput(offRuns)) * 100),
      delivered,
      decisions: onRuns.length * expected,
      drainSeconds,
      recordedSeconds,
    };
  } finally {
    await receiver.close();
  }
}
