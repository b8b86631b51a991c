import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import {
  createServer as createNetServer,
  type AddressInfo,
  type Server as NetServer,
  type Socket,
} from 'node:net';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { postWebhook } from './deliver.ts';

// postWebhook against real local HTTP servers: what each kind of answer (or none) becomes.

const servers: (Server | NetServer)[] = [];
/** Raw receivers' connections, closed after each test: a client's idle one would keep `close` waiting. */
const rawSockets = new Set<Socket>();
afterEach(async () => {
  for (const socket of rawSockets) socket.destroy();
  rawSockets.clear();
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          if ('closeAllConnections' in server) server.closeAllConnections();
          server.close(() => {
            resolve();
          });
        }),
    ),
  );
});

async function listen(server: Server | NetServer, scheme = 'http'): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  return listen(createServer(handler));
}

/**
 * A receiver speaking raw HTTP/1.1: `answer` gets each connection's request count (from 1) and says
 * what to write back, or undefined to drop the connection without answering.
 */
async function serveRaw(
  answer: (nth: number) => string | undefined,
): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  const server = createNetServer((socket) => {
    connections += 1;
    rawSockets.add(socket);
    let nth = 0;
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      // Each test request is `{}`: its end is the end of its head plus two bytes.
      const end = received.indexOf('\r\n\r\n');
      if (end < 0 || received.length < end + 6) return;
      received = received.slice(end + 6);
      const reply = answer(++nth);
      if (reply === undefined) socket.destroy();
      else socket.write(reply);
    });
    socket.on('error', () => undefined);
  });
  return { url: await listen(server), connections: () => connections };
}

/**
 * A self-signed certificate for 127.0.0.1 and its key, made once for these tests with
 * `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 36500
 * -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1`.
 */
function selfSigned(): { key: string; cert: string } {
  const file = (name: string): string => readFileSync(new URL(`testdata/${name}`, import.meta.url), 'utf8');
  return { key: file('receiver-key.pem'), cert: file('receiver-cert.pem') };
}

const options = { allowLinkLocal: true, timeoutMs: 300 };

describe('postWebhook', () => {
  it('counts any 2xx as delivered and says the status', async () => {
    const url = await serve((request, response) => {
      request.resume();
      request.on('end', () => response.writeHead(202).end('queued'));
    });
    await expect(postWebhook(url, {}, '{}', options)).resolves.toEqual({
      kind: 'delivered',
      message: 'HTTP 202',
    });
  });

  it('sends one receiver its deliveries over a kept-alive connection', async () => {
    let connections = 0;
    const url = await serve((request, response) => {
      request.resume();
      request.on('end', () => response.writeHead(204).end());
    });
    servers.at(-1)?.on('connection', () => {
      connections += 1;
    });
    for (let sent = 0; sent < 5; sent++) {
      await expect(postWebhook(url, {}, '{}', options)).resolves.toMatchObject({ kind: 'delivered' });
    }
    // A guarded lookup too: the same host, its own pool (made through the guard).
    await expect(postWebhook(url, {}, '{}', { ...options, allowLinkLocal: false })).resolves.toMatchObject({
      kind: 'delivered',
    });
    expect(connections).toBe(2);
  });

  it('refuses a metadata address before connecting, however often it is asked', async () => {
    const guarded = { allowLinkLocal: false, timeoutMs: 300 };
    for (let asked = 0; asked < 2; asked++) {
      await expect(postWebhook('http://169.254.169.254/latest', {}, '{}', guarded)).resolves.toMatchObject({
        kind: 'refused',
      });
    }
    await expect(postWebhook('not a url', {}, '{}', guarded)).resolves.toEqual({
      kind: 'refused',
      message: 'not a URL',
    });
  });

  it('fails a receiver that never answers once the timeout has passed', async () => {
    const url = await serve((request) => {
      request.resume();
    });
    await expect(postWebhook(url, {}, '{}', options)).resolves.toEqual({
      kind: 'failed',
      message: 'no answer within 0.3s',
    });
  });

  it('fails a receiver that starts answering but never finishes, with the same timeout', async () => {
    const url = await serve((request, response) => {
      request.resume();
      response.writeHead(200, { 'content-length': '100' });
      response.write('partial');
    });
    await expect(postWebhook(url, {}, '{}', options)).resolves.toEqual({
      kind: 'failed',
      message: 'no answer within 0.3s',
    });
  });

  it('does not follow a redirect and says where it pointed', async () => {
    const url = await serve((request, response) => {
      request.resume();
      response.writeHead(302, { location: 'http://169.254.169.254/' }).end();
    });
    await expect(postWebhook(url, {}, '{}', options)).resolves.toEqual({
      kind: 'failed',
      message: 'HTTP 302: redirects are not followed (to http://169.254.169.254/)',
    });
  });

  it('reads a chunked answer and says what it said', async () => {
    const url = await serve((request, response) => {
      request.resume();
      response.writeHead(503);
      response.write('down for ');
      response.end('maintenance');
    });
    await expect(postWebhook(url, {}, '{}', options)).resolves.toEqual({
      kind: 'failed',
      message: 'HTTP 503: down for maintenance',
    });
  });

  it('sends again on a new connection when a kept-alive one closes before answering', async () => {
    const receiver = await serveRaw((nth) => (nth === 1 ? 'HTTP/1.1 204 No Content\r\n\r\n' : undefined));
    for (let sent = 0; sent < 3; sent++) {
      await expect(postWebhook(receiver.url, {}, '{}', options)).resolves.toEqual({
        kind: 'delivered',
        message: 'HTTP 204',
      });
    }
    // Each connection answered once, then dropped the next request: a new connection for every POST after the first.
    expect(receiver.connections()).toBe(3);
  });

  it('fails a new connection that closes without an answer, and one that answers what is not HTTP', async () => {
    const silent = await serveRaw(() => undefined);
    await expect(postWebhook(silent.url, {}, '{}', options)).resolves.toEqual({
      kind: 'failed',
      message: 'the connection closed without an answer',
    });
    const other = await serveRaw(() => 'SSH-2.0-OpenSSH_9.6\r\n\r\n');
    await expect(postWebhook(other.url, {}, '{}', options)).resolves.toEqual({
      kind: 'failed',
      message: 'the answer is not HTTP/1.x: "SSH-2.0-OpenSSH_9.6"',
    });
  });

  it('posts over TLS to a receiver it trusts, and refuses a certificate it does not', async () => {
    const { key, cert } = selfSigned();
    const url = await listen(
      createHttpsServer({ key, cert }, (request, response) => {
        request.resume();
        request.on('end', () => response.writeHead(204).end());
      }),
      'https',
    );
    const untrusted = await postWebhook(url, {}, '{}', options);
    expect(untrusted.kind).toBe('failed');
    expect(untrusted.message).toMatch(/self-signed certificate/);
    const defaults = getCACertificates('default');
    setDefaultCACertificates([...defaults, cert]);
    try {
      // A new URL on the same receiver: the failed connection is not reused.
      await expect(postWebhook(`${url}/trusted`, {}, '{}', options)).resolves.toEqual({
        kind: 'delivered',
        message: 'HTTP 204',
      });
    } finally {
      setDefaultCACertificates(defaults);
    }
  });
});
