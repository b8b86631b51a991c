import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import {
  healthRoutes,
  metricsRoutes,
  parseBindAddress,
  startHttpServer,
  type HttpServerOptions,
  type RunningHttpServer,
} from './http.ts';
import { GreenlightMetrics } from './metrics.ts';

describe('parseBindAddress', () => {
  it.each([
    [':8080', { enabled: true, host: undefined, port: 8080 }],
    [':0', { enabled: true, host: undefined, port: 0 }],
    ['127.0.0.1:8081', { enabled: true, host: '127.0.0.1', port: 8081 }],
    ['localhost:3000', { enabled: true, host: 'localhost', port: 3000 }],
    ['[::1]:8080', { enabled: true, host: '::1', port: 8080 }],
    ['[::]:65535', { enabled: true, host: '::', port: 65535 }],
    ['0', { enabled: false }],
    ['', { enabled: false }],
  ])('%j is %j', (value, address) => {
    expect(parseBindAddress(value)).toEqual(address);
  });

  it.each([
    '8080',
    'localhost',
    ':http',
    ':70000',
    ':-1',
    '::1:8080',
    '127.0.0.1:',
    '[::1]',
    '[::1]8080',
    ' :8080',
  ])('refuses %j', (value) => {
    expect(() => parseBindAddress(value)).toThrow(ConfigError);
  });
});

describe('startHttpServer', () => {
  const running: RunningHttpServer[] = [];

  afterEach(async () => {
    await Promise.all(running.splice(0).map((server) => server.close()));
  });

  async function start(
    options: Omit<HttpServerOptions, 'address'>,
    address = '127.0.0.1:0',
  ): Promise<string> {
    const server = await startHttpServer({ address, ...options });
    if (server === undefined) throw new Error('the server did not start');
    running.push(server);
    return `http://127.0.0.1:${server.port}`;
  }

  it('serves GET /metrics from the metrics registry', async () => {
    const metrics = new GreenlightMetrics({ processMetrics: false });
    metrics.recordSlackInteraction('accepted');
    const base = await start({ routes: metricsRoutes(metrics) });
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await response.text()).toContain('greenlight_slack_interactions_total{result="accepted"} 1');
  });

  it('answers 404 for unknown paths and 405, with Allow, for other methods', async () => {
    const base = await start({ routes: metricsRoutes(new GreenlightMetrics({ processMetrics: false })) });
    const missing = await fetch(`${base}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe('404 page not found\n');
    const wrongMethod = await fetch(`${base}/metrics`, { method: 'POST', body: 'x' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET, HEAD');
  });

  it('answers HEAD like GET, without a body', async () => {
    const base = await start({ routes: { '/ping': { GET: () => ({ status: 200, body: 'pong' }) } } });
    const response = await fetch(`${base}/ping`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe('4');
    expect(await response.text()).toBe('');
  });

  it('hands a POST handler the method, query, headers and body', async () => {
    const base = await start({
      routes: {
        '/echo': {
          POST: (request) => ({
            status: 200,
            contentType: 'application/json',
            body: JSON.stringify({
              method: request.method,
              kind: request.url.searchParams.get('kind'),
              signature: request.headers['x-signature'],
              body: request.body,
            }),
          }),
        },
      },
    });
    const response = await fetch(`${base}/echo?kind=block_actions`, {
      method: 'POST',
      headers: { 'x-signature': 'v0=abc' },
      body: 'payload=%7B%7D',
    });
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({
      method: 'POST',
      kind: 'block_actions',
      signature: 'v0=abc',
      body: 'payload=%7B%7D',
    });
  });

  it('refuses bodies over 1 MiB', async () => {
    const base = await start({ routes: { '/echo': { POST: () => ({ status: 200, body: 'read' }) } } });
    const response = await fetch(`${base}/echo`, { method: 'POST', body: 'x'.repeat(1024 * 1024 + 1) });
    expect(response.status).toBe(413);
  });

  it('answers 500 when a handler throws, and says why to onError only', async () => {
    const errors: unknown[] = [];
    const base = await start({
      routes: {
        '/broken': {
          GET: () => {
            throw new Error('registry exploded with token xoxb-1');
          },
        },
      },
      onError: (error, request) => errors.push([error instanceof Error ? error.message : error, request]),
    });
    const response = await fetch(`${base}/broken`);
    expect(response.status).toBe(500);
    expect(await response.text()).toBe('internal server error\n');
    expect(errors).toEqual([['registry exploded with token xoxb-1', { method: 'GET', path: '/broken' }]]);
  });

  it('binds every interface for ":0" and reports the kernel’s port', async () => {
    const server = await startHttpServer({ address: ':0', routes: {} });
    if (server === undefined) throw new Error('the server did not start');
    running.push(server);
    expect(server.port).toBeGreaterThan(0);
    expect(['::', '0.0.0.0']).toContain(server.host);
    expect((await fetch(`http://127.0.0.1:${server.port}/`)).status).toBe(404);
  });

  it('starts nothing when the address is "0"', async () => {
    expect(await startHttpServer({ address: '0', routes: {} })).toBeUndefined();
  });

  it('fails with a ConfigError when the port is taken', async () => {
    const first = await startHttpServer({ address: '127.0.0.1:0', routes: {} });
    if (first === undefined) throw new Error('the server did not start');
    running.push(first);
    await expect(startHttpServer({ address: `127.0.0.1:${first.port}`, routes: {} })).rejects.toThrow(
      /^cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/,
    );
  });

  it('stops listening on close, and closing twice is harmless', async () => {
    const server = await startHttpServer({ address: '127.0.0.1:0', routes: {} });
    if (server === undefined) throw new Error('the server did not start');
    await fetch(`http://127.0.0.1:${server.port}/`);
    await server.close();
    await server.close();
    await expect(fetch(`http://127.0.0.1:${server.port}/`)).rejects.toThrow();
  });
});

describe('healthRoutes', () => {
  const running: RunningHttpServer[] = [];

  afterEach(async () => {
    await Promise.all(running.splice(0).map((server) => server.close()));
  });

  async function probe(
    options: Parameters<typeof healthRoutes>[0],
  ): Promise<(path: string) => Promise<[number, string]>> {
    const server = await startHttpServer({ address: '127.0.0.1:0', routes: healthRoutes(options) });
    if (server === undefined) throw new Error('the server did not start');
    running.push(server);
    return async (path) => {
      const response = await fetch(`http://127.0.0.1:${server.port}${path}`);
      return [response.status, await response.text()];
    };
  }

  it('is alive from the start', async () => {
    const get = await probe({ readiness: { 'informer-sync': () => false } });
    expect(await get('/healthz')).toEqual([200, 'ok']);
    expect(await get('/healthz?verbose')).toEqual([200, '[+]ping ok\nhealthz check passed\n']);
  });

  it('is ready once every readiness check passes, and says which one does not', async () => {
    let synced = false;
    const get = await probe({ readiness: { ping: () => true, 'informer-sync': () => synced } });
    expect(await get('/readyz')).toEqual([
      503,
      '[+]ping ok\n[-]informer-sync failed: reason withheld\nreadyz check failed\n',
    ]);
    synced = true;
    expect(await get('/readyz')).toEqual([200, 'ok']);
    expect(await get('/readyz?verbose')).toEqual([
      200,
      '[+]ping ok\n[+]informer-sync ok\nreadyz check passed\n',
    ]);
  });

  it('counts a check that throws or rejects as failed', async () => {
    const get = await probe({
      readiness: {
        'policy-cache': () => {
          throw new Error('not yet');
        },
        leader: () => Promise.reject(new Error('lost')),
        'slack-outbox': () => Promise.resolve(true),
      },
    });
    const [status, body] = await get('/readyz');
    expect(status).toBe(503);
    expect(body).toContain('[-]policy-cache failed');
    expect(body).toContain('[-]leader failed');
    expect(body).toContain('[+]slack-outbox ok');
  });

  it('leaves excluded checks out', async () => {
    const get = await probe({ readiness: { 'informer-sync': () => true, slack: () => false } });
    expect(await get('/readyz?exclude=slack')).toEqual([200, 'ok']);
  });
});
