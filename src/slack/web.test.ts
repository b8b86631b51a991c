import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { GreenlightMetrics } from '../observability/metrics.ts';
import { SlackCallError, SlackWeb } from './web.ts';

// The write fence on Slack's side: a replica that lost its lease sends no message, edit or reaction
// (the one that leads now does), while reads stay open.

describe('SlackWeb behind a write fence', () => {
  it('sends no write once the fence is shut, says so as a retryable failure, and still reads', async ({
    onTestFinished,
  }) => {
    const calls: string[] = [];
    const server = createServer((request, response) => {
      calls.push(request.url ?? '');
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({ ok: true, channel: 'C1', ts: '1.000001', user_id: 'U1', team_id: 'T1', url: 'x' }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(
      () =>
        new Promise<void>((resolve) =>
          server.close(() => {
            resolve();
          }),
        ),
    );
    let open = true;
    const web = new SlackWeb({
      token: 'xoxb-test',
      apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`,
      metrics: new GreenlightMetrics({ processMetrics: false }),
      writeFence: () => open,
    });
    const message = { channel: 'C1', text: 'hello', blocks: [] };

    expect(await web.postMessage(message)).toEqual({ channel: 'C1', ts: '1.000001' });
    open = false;
    const refused = await web.postMessage(message).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(SlackCallError);
    expect((refused as SlackCallError).failure).toEqual({
      kind: 'transient',
      uncertain: false,
      message: 'no longer the leader',
    });
    await expect(web.react('C1', '1.000001', 'eyes')).rejects.toBeInstanceOf(SlackCallError);
    await web.self();
    expect(calls).toEqual(['/api/chat.postMessage', '/api/auth.test']);
  });
});
