/**
 * Decision webhooks' cost: the same throughput run four times — without webhooks, with a policy that
 * POSTs every outcome to a local automation server (signed, as in production), again with it, and again
 * without — off, on, on, off, so that a drift in the shared machine's load weighs on both sides
 * (`--webhook-rounds N` repeats the four). The cost is the throughput lost, mean against mean; the
 * controller's CPU per decision, on against off, is the steadier figure (report.ts). After each run with webhooks, the benchmark waits
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
import { Webhook } from 'standardwebhooks';

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
  /** Deliveries whose Standard Webhooks signature the benchmark verified (a sample; absent in older results). */
  readonly verified?: number;
}

/** Every this-many deliveries to a run, one is kept whole and its signature verified after the run. */
const VERIFY_EVERY = 20;

interface Kept {
  readonly body: string;
  readonly headers: Record<string, string>;
}

/**
 * The user's automation server, lean: it answers 204 once the body has arrived and counts deliveries
 * by the URL's last segment (each run's webhook URL ends in its namespace). In production it runs on
 * other machines; here it shares the two cores with the controller, so it does as little as a receiver
 * can per delivery — it does not parse or verify every body. One delivery in VERIFY_EVERY is kept and
 * its Standard Webhooks signature verified after the run (`verifyKept`), outside what is measured.
 */
async function startReceiver(): Promise<{
  url: string;
  delivered: Map<string, number>;
  kept: Kept[];
  /** Connections the controllers opened so far (each keeps its few alive). */
  connections: () => number;
  close: () => Promise<void>;
}> {
  const delivered = new Map<string, number>();
  const kept: Kept[] = [];
  let connections = 0;
  const server: Server = createServer((request, response) => {
    const run = request.url?.slice(request.url.lastIndexOf('/') + 1) ?? '';
    const count = (delivered.get(run) ?? 0) + 1;
    delivered.set(run, count);
    if (count % VERIFY_EVERY === 1) {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const headers: Record<string, string> = {};
        for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
          headers[name] = String(request.headers[name] ?? '');
        }
        kept.push({ body: Buffer.concat(chunks).toString('utf8'), headers });
        response.writeHead(204).end();
      });
      return;
    }
    request.resume();
    request.on('end', () => response.writeHead(204).end());
  });
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/greenlight`,
    delivered,
    kept,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** Verifies the kept deliveries' signatures (and that each is about a request of `namespace`). */
function verifyKept(kept: Kept[], secret: string, namespace: string): number {
  const webhook = new Webhook(secret);
  let verified = 0;
  for (const { body, headers } of kept.splice(0)) {
    const event = webhook.verify(body, headers) as { source?: string };
    if (!event.source?.includes(`/namespaces/${namespace}/`)) {
      throw new Error(`a delivery for ${namespace} was about ${String(event.source)}`);
    }
    verified++;
  }
  return verified;
}

export async function measureWebhooks(
  context: BenchContext,
  schedule: Schedule,
  rounds = 1,
): Promise<WebhookResult> {
  const receiver = await startReceiver();
  try {
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
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
      while ((receiver.delivered.get(namespace) ?? 0) < expected && Date.now() < deadline) await pause();
      drainSeconds = Math.max(drainSeconds, round((performance.now() - started) / 1000, 1));
      const outboxEmpty = async (): Promise<boolean> =>
        /^greenlight_webhook_outbox_depth 0$/m.test((await controller?.metrics()) ?? '');
      while (controller && !(await outboxEmpty()) && Date.now() < deadline) await pause();
      recordedSeconds = Math.max(recordedSeconds, round((performance.now() - started) / 1000, 1));
      verified += verifyKept(receiver.kept, secret, namespace);
      context.progress(`  receiver: ${receiver.connections()} connections so far`);
    };
    const offRuns: RunResult[] = [];
    const onRuns: RunResult[] = [];
    // off, on, on, off in each round: a drift in the machine's load weighs on both sides.
    for (let r = 0; r < rounds; r++) {
      const [first, second] = [2 * r + 1, 2 * r + 2];
      offRuns.push(await measureRun(context, `webhooks-off-${first}`, off, schedule));
      for (const n of [first, second]) {
        const label = `webhooks-on-${n}`;
        onRuns.push(await measureRun(context, label, on(label), schedule, { afterMeasure: drain }));
      }
      offRuns.push(await measureRun(context, `webhooks-off-${second}`, off, schedule));
    }
    const throughput = (runs: readonly RunResult[]): number =>
      runs.reduce((sum, run) => sum + run.decisionsPerSecond, 0) / runs.length;
    const delivered = onRuns.reduce(
      (sum, run) => sum + (receiver.delivered.get(`bench-${run.label}`) ?? 0),
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
      verified,
    };
  } finally {
    await receiver.close();
  }
}
