import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signature, signingKey } from '../webhooks/cloudevent.ts';

/** A verified callback, as the automation server saw it. */
export interface Callback {
  readonly id: string;
  readonly type: string;
  readonly subject: string;
  readonly source: string;
  readonly decidedBy: string | undefined;
}

export interface AutomationServer {
  readonly url: string;
  readonly callbacks: readonly Callback[];
  close(): Promise<void>;
}

const TOLERANCE_SECONDS = 5 * 60;

function header(request: IncomingMessage, name: string): string {
  const value = request.headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

/**
 * The demo's automation server: it verifies each decision webhook as docs/webhooks.md shows
 * (Standard Webhooks: HMAC-SHA256 of id, timestamp and body, timestamps at most five minutes away),
 * answers 204, and tells what it verified. Unverified calls get 401.
 */
export async function startAutomationServer(
  secret: string,
  onCallback: (callback: Callback) => void,
): Promise<AutomationServer> {
  const key = signingKey(secret);
  if ('problem' in key) throw new Error(`the demo's webhook secret ${key.problem}`);
  const callbacks: Callback[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const id = header(request, 'webhook-id');
      const timestamp = Number(header(request, 'webhook-timestamp'));
      const expected = Buffer.from(signature(key.key, id, timestamp, body));
      const fresh = Math.abs(Date.now() / 1000 - timestamp) <= TOLERANCE_SECONDS;
      const verified = header(request, 'webhook-signature')
        .split(' ')
        .some((given) => given.length === expected.length && timingSafeEqual(Buffer.from(given), expected));
      if (!fresh || !verified) {
        response.writeHead(401).end();
        return;
      }
      const event = JSON.parse(body) as {
        type: string;
        subject: string;
        source: string;
        data: { status: { decision?: { decidedBy?: string } } };
      };
      const callback = {
        id,
        type: event.type,
        subject: event.subject,
        source: event.source,
        decidedBy: event.data.status.decision?.decidedBy,
      };
      callbacks.push(callback);
      onCallback(callback);
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/greenlight`,
    callbacks,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
