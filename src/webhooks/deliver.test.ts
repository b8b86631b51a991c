import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { postWebhook } from './deliver.ts';

// postWebhook against real local HTTP servers: what each kind of answer (or none) becomes.

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

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
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
});
