import {
  createServer as createNetServer,
  type AddressInfo,
  type Server as NetServer,
  type Socket,
} from 'node:net';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { apiMessageOf, KubeApiError } from './api-errors.ts';
import {
  KubeHttp,
  KubeHttpError,
  KubeRequestAbortedError,
  KubeRequestTimeoutError,
  LineSplitter,
  NotLeaderError,
} from './kube-http.ts';

/** The lines a splitter reports for these chunks, in order. */
function linesOf(...chunks: readonly Buffer[]): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line));
  for (const chunk of chunks) splitter.push(chunk);
  return lines;
}

describe('LineSplitter', () => {
  it('reports each complete line of a chunk, and keeps an unfinished one for the next', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    splitter.push(Buffer.from('{"type":"ADDED"}\n{"type":"MOD'));
    expect(lines).toEqual(['{"type":"ADDED"}']);
    splitter.push(Buffer.from('IFIED"}\n'));
    expect(lines).toEqual(['{"type":"ADDED"}', '{"type":"MODIFIED"}']);
  });

  it('joins a character whose UTF-8 bytes are split across chunks', () => {
    const bytes = Buffer.from('{"message":"approved — €120"}\n');
    const cut = bytes.indexOf(0xe2) + 1; // inside the three bytes of the dash
    expect(linesOf(bytes.subarray(0, cut), bytes.subarray(cut))).toEqual(['{"message":"approved — €120"}']);
  });

  it('skips empty lines and reports many lines of one chunk in order', () => {
    expect(linesOf(Buffer.from('a\n\nb\nc\n'))).toEqual(['a', 'b', 'c']);
  });
});

// The calls' HTTP/1.1 client against real local servers (the API server's own tests are in
// test/kube-http.test.ts): what goes out, kept-alive reuse, retries, the idle timeout and aborts.

const run = promisify(execFile);
const servers: NetServer[] = [];
const sockets = new Set<Socket>();
afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) =>
          server.close(() => {
            resolve();
          }),
        ),
    ),
  );
});

/** A raw server's reply that is none: it reads the request and stays silent. */
const SILENCE = Symbol('silence');

/**
 * A server speaking raw HTTP/1.1: `answer` gets each request's head and the connection's request
 * count, and says what to write back, SILENCE, or undefined to drop the connection unanswered.
 */
async function serveRaw(
  answer: (head: string, nth: number) => string | undefined | typeof SILENCE,
): Promise<{ url: string; connections: () => number; heads: string[] }> {
  let connections = 0;
  const heads: string[] = [];
  const server = createNetServer((socket) => {
    connections += 1;
    sockets.add(socket);
    let nth = 0;
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      for (let end = received.indexOf('\r\n\r\n'); end >= 0; end = received.indexOf('\r\n\r\n')) {
        const head = received.slice(0, end);
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? '0');
        if (received.length < end + 4 + length) return;
        received = received.slice(end + 4 + length);
        heads.push(head);
        const reply = answer(head, ++nth);
        if (reply === undefined) socket.destroy();
        else if (reply !== SILENCE) socket.write(reply);
      }
    });
    socket.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    heads,
  };
}

const ok = (body: string, headers = ''): string =>
  `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n${headers}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

function clientOf(
  url: string,
  headers: Record<string, string> = {},
  requestIdleTimeoutMs?: number,
): KubeHttp {
  return new KubeHttp(
    {
      getCurrentCluster: () => ({ server: url }),
      applyToHTTPSOptions: (options) => {
        options.headers = { ...headers };
        return Promise.resolve();
      },
    },
    requestIdleTimeoutMs === undefined ? {} : { requestIdleTimeoutMs },
  );
}

describe('KubeHttp calls', () => {
  it('sends one head with Host, User-Agent, Accept and the credentials, and no Accept-Encoding', async () => {
    const server = await serveRaw(() => ok('{"kind":"Status"}'));
    const client = clientOf(server.url, { Authorization: 'Bearer token-1' });
    client.setUserAgent('greenlight/replica-1');
    await client.json('PUT', '/api/v1/namespaces/ci/configmaps/a?fieldManager=greenlight', {
      data: { a: 'ü' },
    });
    await client.json('GET', '/api/v1/namespaces/ci/configmaps');
    await client.close();
    const [put, get] = server.heads;
    const port = new URL(server.url).port;
    expect(put).toBe(
      `PUT /api/v1/namespaces/ci/configmaps/a?fieldManager=greenlight HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n` +
        'authorization: Bearer token-1\r\nuser-agent: greenlight/replica-1\r\naccept: application/json\r\n' +
        'content-type: application/json\r\ncontent-length: 19',
    );
    expect(get).not.toMatch(/content-length|accept-encoding/i);
  });

  it('asks the API server to give up on each fenced write once its window has passed', async () => {
    const server = await serveRaw(() => ok('{}'));
    const client = clientOf(server.url);
    let windowMs: number | undefined = 1_234.9;
    client.setWriteFence(
      () => windowMs !== 0,
      () => windowMs,
    );
    await client.json('PUT', '/api/v1/namespaces/ci/configmaps/a?fieldManager=greenlight', {});
    await client.send('POST', '/api/v1/namespaces/ci/events', {});
    await client.json('GET', '/api/v1/namespaces/ci/configmaps/a');
    await client.json('PUT', '/apis/coordination.k8s.io/v1/namespaces/ci/leases/l', {}, { unfenced: true });
    windowMs = undefined;
    await client.json('DELETE', '/api/v1/namespaces/ci/configmaps/a');
    windowMs = 0;
    await expect(client.json('DELETE', '/api/v1/namespaces/ci/configmaps/b')).rejects.toBeInstanceOf(
      NotLeaderError,
    );
    await client.close();
    expect(server.heads.map((head) => head.slice(0, head.indexOf(' HTTP/1.1')))).toEqual([
      'PUT /api/v1/namespaces/ci/configmaps/a?fieldManager=greenlight&timeout=1234ms',
      'POST /api/v1/namespaces/ci/events?timeout=1234ms',
      'GET /api/v1/namespaces/ci/configmaps/a',
      'PUT /apis/coordination.k8s.io/v1/namespaces/ci/leases/l',
      'DELETE /api/v1/namespaces/ci/configmaps/a',
    ]);
  });

  it('reuses one kept-alive connection across sequential calls', async () => {
    const server = await serveRaw(() => ok('{}'));
    const client = clientOf(server.url);
    for (let call = 0; call < 5; call += 1) await client.json('GET', '/api/v1/namespaces');
    await client.send('POST', '/api/v1/namespaces/ci/events', { reason: 'Approved' });
    expect(server.connections()).toBe(1);
    await client.close();
  });

  it('throws a refusal as KubeApiError with its Status body and headers', async () => {
    const status = '{"kind":"Status","code":429,"message":"slow down"}';
    const server = await serveRaw(
      () =>
        `HTTP/1.1 429 Too Many Requests\r\nRetry-After: 2\r\ncontent-length: ${status.length}\r\n\r\n${status}`,
    );
    const client = clientOf(server.url);
    const error = await client
      .send('POST', '/api/v1/namespaces/ci/events', {})
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KubeApiError);
    expect(error).toMatchObject({ code: 429, body: status, headers: { 'retry-after': '2' } });
    expect(apiMessageOf(error)).toBe('slow down');
    await client.close();
  });

  it('sends a GET or PUT again when a kept-alive connection closes before answering, and not a POST', async () => {
    // Every connection answers its first request and drops its second unanswered.
    const server = await serveRaw((_head, nth) => (nth === 1 ? ok('{"n":1}') : undefined));
    const client = clientOf(server.url);
    await client.json('GET', '/a');
    await expect(client.json('GET', '/b')).resolves.toEqual({ n: 1 });
    await expect(client.json('PUT', '/c', {})).resolves.toEqual({ n: 1 });
    expect(server.connections()).toBe(3);
    await expect(client.json('POST', '/d', {})).rejects.toThrow(/closed without an answer/);
    expect(server.connections()).toBe(3);
    await client.close();
  });

  it('abandons a call after its idle timeout', async () => {
    const server = await serveRaw(() => SILENCE);
    const client = clientOf(server.url, {}, 200);
    const started = Date.now();
    await expect(client.json('GET', '/slow')).rejects.toBeInstanceOf(KubeRequestTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    await client.close();
  });

  it('waits as long as bytes keep arriving, then times out once they stop', async () => {
    const server = await serveRaw(() => SILENCE);
    const client = clientOf(server.url, {}, 300);
    const started = Date.now();
    const call = client.json('GET', '/trickle').catch((caught: unknown) => caught);
    // A byte every 100 ms for 600 ms: never silent for 300 ms.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const [socket] = sockets;
    socket?.write('HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\n');
    for (const byte of '{"a":') {
      await new Promise((resolve) => setTimeout(resolve, 100));
      socket?.write(byte);
    }
    expect(await call).toBeInstanceOf(KubeRequestTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
    await client.close();
  });

  it('aborts a call through its signal, and does not send one whose signal has aborted', async () => {
    const server = await serveRaw(() => SILENCE);
    const client = clientOf(server.url);
    const controller = new AbortController();
    const call = client.json('GET', '/slow', undefined, { signal: controller.signal });
    setTimeout(() => {
      controller.abort(new Error('stopping'));
    }, 50);
    const error = await call.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KubeRequestAbortedError);
    expect(error).toMatchObject({ name: 'AbortError', cause: new Error('stopping') });

    const sent = server.heads.length;
    await expect(client.json('PUT', '/x', {}, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(
      KubeRequestAbortedError,
    );
    expect(server.heads).toHaveLength(sent);
    await client.close();
  });

  it('lets a process that made its calls exit without closing the client (idle connections are unref’d)', async () => {
    const server = await serveRaw(() => ok('{"done":true}'));
    const script =
      `import { KubeHttp } from ${JSON.stringify(fileURLToPath(new URL('kube-http.ts', import.meta.url)))};\n` +
      `const access = { getCurrentCluster: () => ({ server: ${JSON.stringify(server.url)} }), applyToHTTPSOptions: async () => {} };\n` +
      `console.log(JSON.stringify(await new KubeHttp(access).json('GET', '/a')));`;
    const started = Date.now();
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      timeout: 20_000,
    });
    expect(stdout.trim()).toBe('{"done":true}');
    // Well below the pool's 30 s idle time: the kept-alive connection did not hold the process.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(server.connections()).toBe(1);
  });

  it('refuses credentials whose header would break the request’s framing', async () => {
    const server = await serveRaw(() => ok('{}'));
    const client = clientOf(server.url, { authorization: 'Bearer t\r\nx-injected: 1' });
    await expect(client.json('GET', '/a')).rejects.toBeInstanceOf(KubeHttpError);
    expect(server.connections()).toBe(0);
    await client.close();
  });
});
