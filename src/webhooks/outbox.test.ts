import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApprovalRequest, WebhookDelivery } from '../api/v1alpha1/approval-request.ts';
import { createLogger } from '../observability/logger.ts';
import { GreenlightMetrics } from '../observability/metrics.ts';
import { RECORD_YIELD_MAX_MS, WebhookOutbox } from './outbox.ts';
import type { DueWebhook } from './plan.ts';

// The outbox's order of work against a real HTTP receiver: a delivery is sent at once, and its result
// waits to be written while the controller is deciding, at most RECORD_YIELD_MAX_MS.

const SECRET = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => {
            resolve();
          });
        }),
    ),
  );
});

async function receiver(): Promise<{ url: string; received: string[] }> {
  const received: string[] = [];
  const server = createServer((request, response) => {
    received.push(String(request.headers['webhook-id']));
    request.resume();
    request.on('end', () => response.writeHead(204).end());
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received };
}

const approved = (uid: string): ApprovalRequest => ({
  apiVersion: 'greenlight.dev/v1alpha1',
  kind: 'ApprovalRequest',
  metadata: { name: `r-${uid}`, namespace: 'finance', uid },
  spec: { action: 'deploy', resource: 'app', parameters: {}, requester: 'ci' },
  status: {
    phase: 'Approved',
    decision: { outcome: 'Approved', decidedBy: 'policy/p', reason: 'ok', decidedAt: '2026-12-06T06:00:00Z' },
  },
});

const due = (uid: string, url: string): DueWebhook => ({
  key: `${uid}/Approved/${url}`,
  uid,
  namespace: 'finance',
  name: `r-${uid}`,
  url,
  outcome: 'Approved',
  secretRef: { name: 'hooks', key: 'secret' },
  since: Date.now(),
  attempts: 0,
});

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function outbox(options: { deciding: () => boolean; now?: () => number }) {
  const recorded: WebhookDelivery[] = [];
  const writes: string[][] = [];
  const box = new WebhookOutbox({
    secret: () => Promise.resolve({ value: SECRET }),
    record: (due, entries) => {
      recorded.push(...entries);
      writes.push(entries.map((entry) => `${due.uid} ${entry.url}`));
      return Promise.resolve('recorded');
    },
    metrics: new GreenlightMetrics({ processMetrics: false }),
    logger: createLogger({ level: 'error', format: 'json', stream: new PassThrough() }),
    allowLinkLocal: true,
    deciding: options.deciding,
    ...(options.now ? { now: options.now } : {}),
  });
  return { box, recorded, writes };
}

describe('the webhook outbox', () => {
  it('sends the deliveries owed at one time together, on connections of their own', async () => {
    // Answers nothing until twelve POSTs are open at once: a batch sent a few at a time never completes.
    const held: (() => void)[] = [];
    const server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        held.push(() => response.writeHead(204).end());
        if (held.length === 12) for (const answer of held) answer();
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const { box, recorded } = outbox({ deciding: () => false });
    try {
      for (let n = 0; n < 12; n++) box.submit(approved(`b-${n}`), [due(`b-${n}`, url)]);
      await until(() => recorded.length === 12);
      expect(recorded.every((entry) => entry.result === 'Delivered')).toBe(true);
    } finally {
      box.stop();
    }
  });

  it('sends within moments but writes the result only once the controller has stopped deciding', async () => {
    const { url, received } = await receiver();
    let deciding = true;
    const { box, recorded } = outbox({ deciding: () => deciding });
    try {
      expect(box.submit(approved('u-1'), [due('u-1', url)])).toBe(1);
      await until(() => received.length === 1);
      expect(received).toEqual(['u-1.Approved']);
      // Long enough for several polls of the decisions in flight.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(recorded).toEqual([]);
      expect(box.depth()).toBe(1);
      deciding = false;
      await until(() => recorded.length === 1);
      expect(recorded[0]).toMatchObject({ url, outcome: 'Approved', result: 'Delivered', attempts: 1 });
      await until(() => box.depth() === 0);
      // Submitted again (a later watch event): finished, so not sent again.
      expect(box.submit(approved('u-1'), [due('u-1', url)])).toBe(0);
    } finally {
      box.stop();
    }
  });

  it('records every result waiting for one request with one write', async () => {
    const first = await receiver();
    const second = await receiver();
    let deciding = true;
    const { box, writes } = outbox({ deciding: () => deciding });
    try {
      box.submit(approved('u-3'), [due('u-3', first.url), due('u-3', second.url)]);
      box.submit(approved('u-4'), [due('u-4', first.url)]);
      await until(() => first.received.length === 2 && second.received.length === 1);
      deciding = false;
      await until(() => box.depth() === 0);
      expect(writes).toHaveLength(2);
      expect(writes).toContainEqual([`u-3 ${first.url}`, `u-3 ${second.url}`]);
      expect(writes).toContainEqual([`u-4 ${first.url}`]);
    } finally {
      box.stop();
    }
  });

  it('writes a result that has waited RECORD_YIELD_MAX_MS even while decisions go on', async () => {
    const { url, received } = await receiver();
    let clock = Date.parse('2026-12-06T06:00:00Z');
    const { box, recorded } = outbox({ deciding: () => true, now: () => clock });
    try {
      box.submit(approved('u-2'), [due('u-2', url)]);
      await until(() => received.length === 1);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(recorded).toEqual([]);
      clock += RECORD_YIELD_MAX_MS;
      await until(() => recorded.length === 1);
      expect(recorded[0]?.result).toBe('Delivered');
    } finally {
      box.stop();
    }
  });
});
