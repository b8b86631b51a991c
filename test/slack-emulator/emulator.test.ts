import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SocketModeClient } from '@slack/socket-mode';
import {
  ErrorCode,
  LogLevel,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
  WebClientEvent,
  type WebClientOptions,
} from '@slack/web-api';
import { describe, expect, it, type TestContext } from 'vitest';
import WebSocket from 'ws';
import {
  deliverInteraction,
  startSlackEmulator,
  type SlackEmulator,
  type SlackEmulatorOptions,
} from './index.ts';

// The emulator against the real Slack SDKs, exactly as Greenlight uses them.

async function emulatorFor(context: TestContext, options: SlackEmulatorOptions = {}): Promise<SlackEmulator> {
  const emulator = await startSlackEmulator(options);
  context.onTestFinished(() => emulator.close());
  return emulator;
}

/** A WebClient that fails fast: no retries unless a test asks for them. */
function webClient(
  emulator: SlackEmulator,
  options: WebClientOptions = {},
  token = 'xoxb-emulator',
): WebClient {
  return new WebClient(token, {
    slackApiUrl: emulator.apiUrl,
    retryConfig: { retries: 0 },
    logLevel: LogLevel.ERROR,
    ...options,
  });
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

async function platformErrorOf(promise: Promise<unknown>): Promise<string> {
  const error = await rejectionOf(promise);
  if (!(error instanceof WebAPIPlatformError)) throw error;
  return error.data.error;
}

const APPROVAL_BLOCKS = [
  { type: 'section', text: { type: 'mrkdwn', text: '*Payment* of $5,000 needs approval' } },
  {
    type: 'actions',
    block_id: 'greenlight_actions',
    elements: [
      {
        type: 'button',
        action_id: 'greenlight_approve',
        text: { type: 'plain_text', text: 'Approve' },
        value: 'r1',
      },
      {
        type: 'button',
        action_id: 'greenlight_deny',
        text: { type: 'plain_text', text: 'Deny' },
        value: 'r1',
      },
    ],
  },
];

describe('Web API with WebClient', () => {
  it('posts a message with metadata, updates it, and returns the metadata from conversations.history', async (context) => {
    const emulator = await emulatorFor(context);
    const slack = webClient(emulator);

    const posted = await slack.chat.postMessage({
      channel: '#payments-approvals',
      text: 'Payment needs approval',
      blocks: APPROVAL_BLOCKS,
      metadata: { event_type: 'greenlight_request', event_payload: { namespace: 'payments', name: 'r1' } },
    });
    expect(posted.ok).toBe(true);
    expect(posted.channel).toBe('C0PAYMENTS');
    expect(posted.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(posted.message?.metadata?.event_type).toBe('greenlight_request');

    const ts = posted.ts ?? '';
    const updated = await slack.chat.update({
      channel: 'C0PAYMENTS',
      ts,
      text: 'Approved by <@U0ALICE>',
      blocks: [],
    });
    expect(updated.text).toBe('Approved by <@U0ALICE>');

    const history = await slack.conversations.history({ channel: 'C0PAYMENTS', include_all_metadata: true });
    expect(history.messages).toHaveLength(1);
    expect(history.messages?.[0]).toMatchObject({
      ts,
      text: 'Approved by <@U0ALICE>',
      metadata: { event_type: 'greenlight_request', event_payload: { namespace: 'payments', name: 'r1' } },
    });
    expect(history.messages?.[0]?.blocks).toBeUndefined();
    const withoutMetadata = await slack.conversations.history({ channel: 'C0PAYMENTS' });
    expect(withoutMetadata.messages?.[0]?.metadata).toBeUndefined();

    const [message] = emulator.messages('#payments-approvals');
    expect(message?.history.map((version) => [version.via, version.text])).toEqual([
      ['chat.postMessage', 'Payment needs approval'],
      ['chat.update', 'Approved by <@U0ALICE>'],
    ]);
    expect(message?.history[0]?.blocks).toEqual(APPROVAL_BLOCKS);
    expect(message?.metadata?.event_payload).toEqual({ namespace: 'payments', name: 'r1' });
  });

  it('hands out unique, increasing timestamps and filters history by oldest, newest first', async (context) => {
    const emulator = await emulatorFor(context, { rateLimit: { perChannelPerSecond: 100, burst: 100 } });
    const slack = webClient(emulator);
    const stamps: string[] = [];
    for (const text of ['one', 'two', 'three', 'four']) {
      stamps.push((await slack.chat.postMessage({ channel: 'C0DEPLOYS', text })).ts ?? '');
    }
    expect([...stamps].sort()).toEqual(stamps);
    expect(new Set(stamps).size).toBe(4);

    const recent = await slack.conversations.history({
      channel: 'C0DEPLOYS',
      oldest: stamps[1] ?? '',
      limit: 10,
    });
    expect(recent.messages?.map((message) => message.text)).toEqual(['four', 'three']);
    const firstPage = await slack.conversations.history({ channel: 'C0DEPLOYS', limit: 3 });
    expect(firstPage.has_more).toBe(true);
    const secondPage = await slack.conversations.history({
      channel: 'C0DEPLOYS',
      limit: 3,
      cursor: firstPage.response_metadata?.next_cursor ?? '',
    });
    expect(secondPage.messages?.map((message) => message.text)).toEqual(['one']);
  });

  it('threads replies under a parent message', async (context) => {
    const emulator = await emulatorFor(context);
    const slack = webClient(emulator);
    const parent = await slack.chat.postMessage({ channel: 'C0WORKFLOW', text: 'Request r1 escalated' });
    const parentTs = parent.ts ?? '';
    await slack.chat.postMessage({ channel: 'C0WORKFLOW', thread_ts: parentTs, text: 'Alice approved' });

    const replies = await slack.conversations.replies({ channel: 'C0WORKFLOW', ts: parentTs });
    expect(replies.messages?.map((message) => message.text)).toEqual([
      'Request r1 escalated',
      'Alice approved',
    ]);
    expect(replies.messages?.[0]?.reply_count).toBe(1);
    const history = await slack.conversations.history({ channel: 'C0WORKFLOW' });
    expect(history.messages?.map((message) => message.text)).toEqual(['Request r1 escalated']);
    expect(emulator.messages('C0WORKFLOW')[1]?.threadTs).toBe(parentTs);
    expect(
      await platformErrorOf(
        slack.chat.postMessage({ channel: 'C0WORKFLOW', thread_ts: '1.000001', text: 'x' }),
      ),
    ).toBe('thread_not_found');
  });

  it("answers Slack's errors for bad channels, missing text, bad blocks, unknown messages and methods", async (context) => {
    const emulator = await emulatorFor(context);
    const slack = webClient(emulator);
    expect(await platformErrorOf(slack.chat.postMessage({ channel: 'C0NOPE', text: 'hi' }))).toBe(
      'channel_not_found',
    );
    expect(await platformErrorOf(slack.chat.postMessage({ channel: '#private-ops', text: 'hi' }))).toBe(
      'not_in_channel',
    );
    emulator.setBotMembership('#private-ops', true);
    expect((await slack.chat.postMessage({ channel: '#private-ops', text: 'hi' })).channel).toBe('C0PRIVATE');
    expect(await platformErrorOf(slack.apiCall('chat.postMessage', { channel: 'C0DEPLOYS' }))).toBe(
      'no_text',
    );
    expect(
      await platformErrorOf(
        slack.apiCall('chat.postMessage', { channel: 'C0DEPLOYS', blocks: '[{not json' }),
      ),
    ).toBe('invalid_blocks');
    expect(
      await platformErrorOf(
        slack.apiCall('chat.postMessage', { channel: 'C0DEPLOYS', blocks: [{ text: 'x' }] }),
      ),
    ).toBe('invalid_blocks');
    expect(
      await platformErrorOf(slack.chat.update({ channel: 'C0DEPLOYS', ts: '1700000000.000100', text: 'x' })),
    ).toBe('message_not_found');
    expect(await platformErrorOf(slack.apiCall('chat.explode'))).toBe('unknown_method');
    expect(emulator.calls('chat.postMessage').map((call) => call.error ?? 'ok')).toEqual([
      'channel_not_found',
      'not_in_channel',
      'ok',
      'no_text',
      'invalid_blocks',
      'invalid_blocks',
    ]);
  });

  it('refuses a wrong or missing token and never records tokens', async (context) => {
    const emulator = await emulatorFor(context);
    const wrong = webClient(emulator, {}, 'xoxb-stolen-and-wrong');
    const error = await rejectionOf(wrong.chat.postMessage({ channel: 'C0DEPLOYS', text: 'hi' }));
    expect(error).toBeInstanceOf(WebAPIPlatformError);
    expect(error).toMatchObject({
      code: ErrorCode.PlatformError,
      data: { ok: false, error: 'invalid_auth' },
    });
    expect(await platformErrorOf(webClient(emulator, {}, '').auth.test())).toBe('not_authed');
    expect(
      await platformErrorOf(
        webClient(emulator, {}, 'xapp-emulator').chat.postMessage({ channel: 'C0DEPLOYS', text: 'x' }),
      ),
    ).toBe('not_allowed_token_type');
    await webClient(emulator).chat.postMessage({ channel: 'C0DEPLOYS', text: 'hi', token: 'xoxb-emulator' });

    const recorded = JSON.stringify(emulator.calls());
    expect(recorded).not.toContain('xoxb-');
    expect(recorded).not.toContain('xapp-');
    expect(emulator.calls().map((call) => call.auth)).toEqual(['invalid', 'missing', 'app', 'bot']);
    expect(emulator.messages()).toHaveLength(1);
  });

  it('looks up users by id and email, and user groups', async (context) => {
    const emulator = await emulatorFor(context);
    const slack = webClient(emulator);
    const alice = await slack.users.info({ user: 'U0ALICE' });
    expect(alice.user).toMatchObject({
      id: 'U0ALICE',
      name: 'alice',
      profile: { email: 'alice@example.com' },
    });
    const bob = await slack.users.lookupByEmail({ email: 'BOB@example.com' });
    expect(bob.user?.id).toBe('U0BOB');
    const approvers = await slack.usergroups.users.list({ usergroup: 'S0APPROVERS' });
    expect(approvers.users).toEqual(['U0ALICE', 'U0BOB']);
    expect(await platformErrorOf(slack.users.info({ user: 'U0NOBODY' }))).toBe('user_not_found');
    expect(await platformErrorOf(slack.users.lookupByEmail({ email: 'nobody@example.com' }))).toBe(
      'users_not_found',
    );
    expect(await platformErrorOf(slack.usergroups.users.list({ usergroup: 'S0NONE' }))).toBe(
      'no_such_subteam',
    );
    const identity = await slack.auth.test();
    expect(identity).toMatchObject({
      user_id: 'U0GREENLIGHT',
      bot_id: 'B0GREENLIGHT',
      team_id: 'T0EMULATOR',
    });
  });

  it('records ephemeral messages', async (context) => {
    const emulator = await emulatorFor(context);
    const slack = webClient(emulator);
    const sent = await slack.chat.postEphemeral({
      channel: 'C0PAYMENTS',
      user: 'U0CAROL',
      text: 'You may not approve',
    });
    expect(sent.message_ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(emulator.ephemerals()).toMatchObject([
      { channel: 'C0PAYMENTS', user: 'U0CAROL', text: 'You may not approve' },
    ]);
    expect(emulator.messages()).toEqual([]);
  });
});

describe('rate limits', () => {
  it('answers 429 with Retry-After past the burst, which WebClient turns into WebAPIRateLimitedError', async (context) => {
    const emulator = await emulatorFor(context, { rateLimit: { perChannelPerSecond: 1, burst: 3 } });
    const slack = webClient(emulator, { rejectRateLimitedCalls: true });
    for (let index = 0; index < 3; index += 1)
      await slack.chat.postMessage({ channel: 'C0PAYMENTS', text: `${index}` });

    const error = await rejectionOf(slack.chat.postMessage({ channel: 'C0PAYMENTS', text: 'one too many' }));
    expect(error).toBeInstanceOf(WebAPIRateLimitedError);
    expect(error).toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 1 });
    // The limit is per channel.
    await slack.chat.postMessage({ channel: 'C0DEPLOYS', text: 'another channel' });
    expect(emulator.rateLimited('C0PAYMENTS')).toBe(1);
    expect(emulator.rateLimited('#deployments')).toBe(0);
    expect(emulator.calls('chat.postMessage').at(3)).toMatchObject({
      status: 429,
      error: 'ratelimited',
      retryAfterSeconds: 1,
    });
  });

  it('lets WebClient wait Retry-After and then succeed when it does not reject rate-limited calls', async (context) => {
    const emulator = await emulatorFor(context, { rateLimit: { perChannelPerSecond: 1, burst: 1 } });
    const slack = webClient(emulator, { retryConfig: { retries: 2, minTimeout: 10, maxTimeout: 10 } });
    const waits: number[] = [];
    slack.on(WebClientEvent.RATE_LIMITED, (seconds: number) => waits.push(seconds));

    await slack.chat.postMessage({ channel: 'C0PAYMENTS', text: 'first' });
    const started = performance.now();
    const second = await slack.chat.postMessage({ channel: 'C0PAYMENTS', text: 'second' });
    expect(second.ok).toBe(true);
    expect(performance.now() - started).toBeGreaterThanOrEqual(1000);
    expect(waits).toEqual([1]);
    expect(emulator.messages('C0PAYMENTS').map((message) => message.text)).toEqual(['first', 'second']);
    expect(emulator.rateLimited('C0PAYMENTS')).toBe(1);
  });
});

describe('failure switches', () => {
  it('fails the next calls as asked: platform error, 429, HTTP 500', async (context) => {
    const emulator = await emulatorFor(context);
    const slack = webClient(emulator, { rejectRateLimitedCalls: true });
    emulator.failNext('chat.postMessage', { error: 'is_archived' });
    emulator.failNext('chat.postMessage', { ratelimited: 7 });
    emulator.failNext('chat.postMessage', 'http500', 2);

    expect(await platformErrorOf(slack.chat.postMessage({ channel: 'C0DEPLOYS', text: 'x' }))).toBe(
      'is_archived',
    );
    expect(await rejectionOf(slack.chat.postMessage({ channel: 'C0DEPLOYS', text: 'x' }))).toMatchObject({
      retryAfter: 7,
    });
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const error = await rejectionOf(slack.chat.postMessage({ channel: 'C0DEPLOYS', text: 'x' }));
      expect(error).toBeInstanceOf(WebAPIHTTPError);
      expect(error).toMatchObject({ code: ErrorCode.HTTPError, statusCode: 500 });
    }
    await slack.chat.postMessage({ channel: 'C0DEPLOYS', text: 'fine again' });
    expect(emulator.calls('chat.postMessage').map((call) => call.status)).toEqual([200, 429, 500, 500, 200]);
    expect(emulator.rateLimited('C0DEPLOYS')).toBe(1);
  });

  it('holds a request until the client times out, and resets connections', async (context) => {
    const emulator = await emulatorFor(context);
    const slack = webClient(emulator, { timeout: 200 });
    emulator.failNext('*', 'timeout');
    emulator.failNext('auth.test', 'reset');

    const timedOut = await rejectionOf(slack.chat.postMessage({ channel: 'C0DEPLOYS', text: 'x' }));
    expect(timedOut).toBeInstanceOf(WebAPIRequestError);
    const reset = await rejectionOf(slack.auth.test());
    expect(reset).toBeInstanceOf(WebAPIRequestError);
    expect((await slack.auth.test()).ok).toBe(true);
    expect(emulator.calls().map((call) => call.status)).toEqual(['timeout', 'reset', 200]);
    expect(emulator.messages()).toEqual([]);
  });

  it('posts the message and then loses the answer (lost-answer): the client times out, the message is there', async (context) => {
    const emulator = await emulatorFor(context);
    const slack = webClient(emulator, { timeout: 200 });
    emulator.failNext('chat.postMessage', 'lost-answer');

    const timedOut = await rejectionOf(
      slack.chat.postMessage({ channel: 'C0DEPLOYS', text: 'posted anyway' }),
    );
    expect(timedOut).toBeInstanceOf(WebAPIRequestError);
    expect(emulator.calls('chat.postMessage').map((call) => call.status)).toEqual(['timeout']);
    expect(emulator.messages('C0DEPLOYS').map((message) => message.text)).toEqual(['posted anyway']);
  });

  it('answers 503 during an outage; a retrying client gets through once it ends', async (context) => {
    const emulator = await emulatorFor(context);
    emulator.setOutage(true);
    const error = await rejectionOf(webClient(emulator).auth.test());
    expect(error).toMatchObject({ code: ErrorCode.HTTPError, statusCode: 503 });

    const patient = webClient(emulator, {
      retryConfig: { retries: 20, factor: 1, minTimeout: 20, maxTimeout: 20 },
    });
    const posting = patient.chat.postMessage({ channel: 'C0DEPLOYS', text: 'after the outage' });
    await emulator.waitFor(
      () => emulator.calls('chat.postMessage').length >= 2,
      5000,
      'two refused attempts',
    );
    emulator.setOutage(false);
    expect((await posting).ok).toBe(true);
    expect(emulator.calls('chat.postMessage').at(-1)?.status).toBe(200);
  });

  it('adds latency', async (context) => {
    const emulator = await emulatorFor(context);
    emulator.setLatency(300);
    const started = performance.now();
    await webClient(emulator).auth.test();
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(await rejectionOf(webClient(emulator, { timeout: 50 }).auth.test())).toBeInstanceOf(
      WebAPIRequestError,
    );
  });

  it('waitFor wakes on changes and gives up after its timeout', async (context) => {
    const emulator = await emulatorFor(context);
    const slack = webClient(emulator);
    const seen = emulator.waitFor(() =>
      emulator.messages('C0DEPLOYS').find((message) => message.text === 'deployed'),
    );
    await slack.chat.postMessage({ channel: 'C0DEPLOYS', text: 'deploying' });
    await slack.chat.postMessage({ channel: 'C0DEPLOYS', text: 'deployed' });
    expect((await seen).text).toBe('deployed');
    await expect(emulator.waitFor(() => emulator.messages().length > 5, 50, 'six messages')).rejects.toThrow(
      /six messages not reached within 50 ms/,
    );
  });
});

describe('Socket Mode with SocketModeClient', () => {
  function socketModeClient(emulator: SlackEmulator): SocketModeClient {
    return new SocketModeClient({
      appToken: 'xapp-emulator',
      clientOptions: { slackApiUrl: emulator.apiUrl, retryConfig: { retries: 0 } },
      logLevel: LogLevel.ERROR,
      // The SDK waits clientPingTimeout before reconnecting, and pings every clientPingTimeout / 3.
      clientPingTimeout: 1000,
      serverPingTimeout: 30_000,
    });
  }

  it('connects, receives an interactive envelope and acks it, and reconnects after a refresh request', async (context) => {
    const emulator = await emulatorFor(context, { socketPingIntervalMs: 200 });
    const client = socketModeClient(emulator);
    context.onTestFinished(() => client.disconnect());
    const received: unknown[] = [];
    client.on('interactive', ({ ack, body }: { ack: () => Promise<void>; body: unknown }) => {
      received.push(body);
      void ack();
    });

    await client.start();
    expect(emulator.connectedClients()).toBe(1);
    const payload = emulator.blockActionsPayload({
      user: 'U0ALICE',
      actionId: 'greenlight_approve',
      value: 'payments/r1/uid-1',
      channel: 'C0PAYMENTS',
      messageTs: '1700000000.000100',
    });
    const ack = await emulator.sendInteractive(payload);
    expect(ack.envelope_id).toMatch(/.+/);
    expect(received).toMatchObject([{ type: 'block_actions', user: { id: 'U0ALICE' } }]);

    const reconnected = new Promise((resolve) => client.once('connected', resolve));
    emulator.requestRefresh();
    await reconnected;
    expect(emulator.socketConnections()).toHaveLength(2);
    expect(emulator.socketConnections()[0]?.closedAt).toBeInstanceOf(Date);
    expect(emulator.connectedClients()).toBe(1);
    expect(emulator.calls('apps.connections.open').map((call) => call.auth)).toEqual(['app', 'app']);
    const clicked = await emulator.click({
      via: 'socket',
      user: 'U0BOB',
      actionId: 'greenlight_deny',
      value: 'payments/r1/uid-1',
      channel: '#payments-approvals',
      messageTs: '1700000000.000100',
    });
    expect(clicked.via === 'socket' && clicked.ack.envelope_id).toBeTruthy();
    expect(received).toHaveLength(2);
  });

  it('issues single-use tickets only for the app token, and rejects unacked envelopes after the deadline', async (context) => {
    const emulator = await emulatorFor(context);
    expect(await platformErrorOf(webClient(emulator).apps.connections.open())).toBe('invalid_auth');
    await expect(emulator.sendInteractive({ type: 'block_actions' })).rejects.toThrow(
      /no Socket Mode client/,
    );

    const opened = await webClient(emulator, {}, 'xapp-emulator').apps.connections.open();
    const url = opened.url ?? '';
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/link\/\?ticket=/);
    const silent = new WebSocket(url);
    context.onTestFinished(() => {
      silent.terminate();
    });
    const hello = await new Promise<unknown>((resolve) =>
      silent.once('message', (data: Buffer) => {
        resolve(JSON.parse(data.toString()));
      }),
    );
    expect(hello).toMatchObject({
      type: 'hello',
      num_connections: 1,
      connection_info: { app_id: 'A0GREENLIGHT' },
    });
    await expect(emulator.sendInteractive({ type: 'block_actions' }, 200)).rejects.toThrow(/no ack/);

    const reused = new WebSocket(url);
    const refusal = await new Promise<string>((resolve) =>
      reused.once('unexpected-response', (_request, response: IncomingMessage) => {
        resolve(String(response.statusCode));
      }),
    );
    expect(refusal).toBe('401');
  });
});

describe('HTTP interactivity', () => {
  /** Greenlight's side, written out: verifies Slack's signature, refuses stale and replayed requests. */
  function verifies(
    secret: string,
    request: { body: string; timestamp: string; signature: string },
    seen: Set<string>,
  ): string {
    const timestamp = Number(request.timestamp);
    if (!Number.isInteger(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > 300) return 'stale';
    const expected = createHmac('sha256', secret).update(`v0:${request.timestamp}:${request.body}`).digest();
    const given = Buffer.from(request.signature.replace(/^v0=/, ''), 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'bad_signature';
    if (seen.has(request.signature)) return 'replayed';
    seen.add(request.signature);
    return 'accepted';
  }

  async function appServer(
    context: TestContext,
    secret: string,
  ): Promise<{ url: string; payloads: unknown[] }> {
    const seen = new Set<string>();
    const payloads: unknown[] = [];
    const server: Server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        const verdict = verifies(
          secret,
          {
            body,
            timestamp: String(request.headers['x-slack-request-timestamp']),
            signature: String(request.headers['x-slack-signature']),
          },
          seen,
        );
        if (verdict === 'accepted')
          payloads.push(JSON.parse(new URLSearchParams(body).get('payload') ?? 'null'));
        response.writeHead(verdict === 'accepted' ? 200 : 401, { 'Content-Type': 'text/plain' }).end(verdict);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    context.onTestFinished(
      () =>
        new Promise<void>((resolve) =>
          server.close(() => {
            resolve();
          }),
        ),
    );
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`, payloads };
  }

  it('delivers a signed click that verifies; forged, stale and replayed ones do not', async (context) => {
    const emulator = await emulatorFor(context, { signingSecret: 'the-real-secret' });
    const app = await appServer(context, 'the-real-secret');
    const posted = await webClient(emulator).chat.postMessage({
      channel: 'C0PAYMENTS',
      text: 'Approve?',
      blocks: APPROVAL_BLOCKS,
    });
    const click = {
      via: 'http',
      requestUrl: app.url,
      user: 'U0ALICE',
      actionId: 'greenlight_approve',
      value: 'payments/r1/uid-1',
      channel: 'C0PAYMENTS',
      messageTs: posted.ts ?? '',
    } as const;

    const accepted = await emulator.click(click);
    expect(accepted).toMatchObject({ via: 'http', status: 200, body: 'accepted', timedOut: false });
    expect(accepted.via === 'http' && accepted.ms).toBeLessThan(3000);
    expect(app.payloads).toMatchObject([
      {
        type: 'block_actions',
        user: { id: 'U0ALICE', username: 'alice' },
        container: { type: 'message', message_ts: posted.ts, channel_id: 'C0PAYMENTS', is_ephemeral: false },
        channel: { id: 'C0PAYMENTS', name: 'payments-approvals' },
        message: { ts: posted.ts, text: 'Approve?', blocks: APPROVAL_BLOCKS },
        actions: [{ type: 'button', action_id: 'greenlight_approve', value: 'payments/r1/uid-1' }],
      },
    ]);

    expect(await emulator.click({ ...click, signingSecret: 'a-guess' })).toMatchObject({
      status: 401,
      body: 'bad_signature',
    });
    const stale = Math.floor(Date.now() / 1000) - 600;
    expect(await emulator.click({ ...click, timestamp: stale })).toMatchObject({
      status: 401,
      body: 'stale',
    });
    if (accepted.via !== 'http') throw new Error('expected an HTTP click');
    expect(await deliverInteraction(app.url, accepted.request)).toMatchObject({
      status: 401,
      body: 'replayed',
    });
  });

  it("reports an app that does not answer within Slack's deadline", async (context) => {
    const emulator = await emulatorFor(context);
    const silent = createServer(() => {
      // Never answers.
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    context.onTestFinished(() => {
      silent.closeAllConnections();
      silent.close();
    });
    const result = await emulator.click({
      via: 'http',
      requestUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/slack/events`,
      deadlineMs: 200,
      user: 'U0ALICE',
      actionId: 'greenlight_approve',
      value: 'r1',
      channel: 'C0PAYMENTS',
      messageTs: '1700000000.000100',
    });
    expect(result).toMatchObject({ via: 'http', status: 0, timedOut: true });
  });

  it('applies what the app posts to the response_url', async (context) => {
    const emulator = await emulatorFor(context);
    const posted = await webClient(emulator).chat.postMessage({
      channel: 'C0PAYMENTS',
      text: 'Approve?',
      blocks: APPROVAL_BLOCKS,
    });
    const payload = emulator.blockActionsPayload({
      user: 'U0CAROL',
      actionId: 'greenlight_approve',
      value: 'r1',
      channel: 'C0PAYMENTS',
      messageTs: posted.ts ?? '',
    });
    const responseUrl = payload['response_url'];
    if (typeof responseUrl !== 'string') throw new Error('no response_url in the payload');
    const post = (body: object): Promise<Response> =>
      fetch(responseUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });

    expect((await post({ text: 'You cannot approve your own request' })).status).toBe(200);
    expect((await post({ replace_original: true, text: 'Approved by Alice' })).status).toBe(200);
    expect(emulator.ephemerals()).toMatchObject([
      { user: 'U0CAROL', text: 'You cannot approve your own request', via: 'response_url' },
    ]);
    expect(emulator.message('C0PAYMENTS', posted.ts ?? '')).toMatchObject({ text: 'Approved by Alice' });
    expect(emulator.message('C0PAYMENTS', posted.ts ?? '')?.blocks).toBeUndefined();
    expect(emulator.responseUrlPosts().map((entry) => entry.action)).toEqual([
      'ephemeral',
      'replace_original',
    ]);
  });
});

describe('other apps, people and reactions', () => {
  it('lets another app’s bot and a person post in their own name, with metadata; edits are their own only', async (context) => {
    const emulator = await emulatorFor(context);
    const bot = webClient(emulator, {}, 'xoxb-payments-bot');
    const asked = await bot.chat.postMessage({
      channel: '#payments-requests',
      text: 'Approve payment INV-43?',
      metadata: {
        event_type: 'greenlight_approval_requested',
        event_payload: { action: 'payment', parameters: { amount: 5000 } },
      },
    });
    expect(asked.channel).toBe('C0PAYREQ');
    expect(asked.message).toMatchObject({
      user: 'U0PAYBOT',
      bot_id: 'B0PAYBOT',
      app_id: 'A0PAYBOT',
      bot_profile: { name: 'payments-bot' },
    });
    expect(emulator.message('C0PAYREQ', asked.ts ?? '')?.author).toEqual({
      user: 'U0PAYBOT',
      botId: 'B0PAYBOT',
      appId: 'A0PAYBOT',
      name: 'payments-bot',
    });
    expect((await bot.auth.test()).bot_id).toBe('B0PAYBOT');
    expect((await webClient(emulator).users.info({ user: 'U0PAYBOT' })).user?.is_bot).toBe(true);

    const alice = webClient(emulator, {}, 'xoxp-alice');
    const own = await alice.chat.postMessage({ channel: 'C0PAYREQ', text: 'me too' });
    expect(own.message?.user).toBe('U0ALICE');
    expect(own.message?.bot_id).toBeUndefined();
    expect(
      await platformErrorOf(alice.chat.update({ channel: 'C0PAYREQ', ts: asked.ts ?? '', text: 'mine now' })),
    ).toBe('cant_update_message');
    expect(await platformErrorOf(alice.users.info({ user: 'U0BOB' }))).toBe('not_allowed_token_type');
  });

  it('adds, lists and removes reactions, with Slack’s errors', async (context) => {
    const emulator = await emulatorFor(context);
    const slack = webClient(emulator);
    const { ts = '' } = await webClient(emulator, {}, 'xoxb-payments-bot').chat.postMessage({
      channel: 'C0PAYREQ',
      text: 'Approve?',
    });
    await slack.reactions.add({ channel: 'C0PAYREQ', timestamp: ts, name: 'eyes' });
    await slack.reactions.add({ channel: 'C0PAYREQ', timestamp: ts, name: ':white_check_mark:' });
    expect(
      await platformErrorOf(slack.reactions.add({ channel: 'C0PAYREQ', timestamp: ts, name: 'eyes' })),
    ).toBe('already_reacted');
    expect(
      await platformErrorOf(
        slack.reactions.add({ channel: 'C0PAYREQ', timestamp: '1.000001', name: 'eyes' }),
      ),
    ).toBe('message_not_found');
    expect(
      await platformErrorOf(slack.reactions.add({ channel: 'C0PAYREQ', timestamp: ts, name: 'Eyes!' })),
    ).toBe('invalid_name');
    await slack.reactions.remove({ channel: 'C0PAYREQ', timestamp: ts, name: 'eyes' });
    expect(
      await platformErrorOf(slack.reactions.remove({ channel: 'C0PAYREQ', timestamp: ts, name: 'eyes' })),
    ).toBe('no_reaction');
    expect(emulator.reactions('#payments-requests', ts)).toEqual([
      { name: 'white_check_mark', users: ['U0GREENLIGHT'] },
    ]);
    const got = await slack.reactions.get({ channel: 'C0PAYREQ', timestamp: ts });
    expect(got.message?.reactions).toEqual([{ name: 'white_check_mark', users: ['U0GREENLIGHT'], count: 1 }]);
  });
});

describe('Events API', () => {
  interface EventApp {
    readonly url: string;
    /** Each request as received: headers that matter and the parsed body. */
    readonly received: {
      retryNum?: string;
      retryReason?: string;
      verified: boolean;
      body: Record<string, unknown>;
    }[];
    /** How the app answers each request, in order; 200 once the list is used up. */
    readonly answers: number[];
  }

  async function eventApp(context: TestContext, secret = 'emulator-signing-secret'): Promise<EventApp> {
    const app: EventApp = { url: '', received: [], answers: [] };
    const server: Server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        const timestamp = String(request.headers['x-slack-request-timestamp']);
        const expected = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
        const parsed = JSON.parse(body) as Record<string, unknown>;
        app.received.push({
          ...(request.headers['x-slack-retry-num'] === undefined
            ? {}
            : { retryNum: String(request.headers['x-slack-retry-num']) }),
          ...(request.headers['x-slack-retry-reason'] === undefined
            ? {}
            : { retryReason: String(request.headers['x-slack-retry-reason']) }),
          verified: request.headers['x-slack-signature'] === expected,
          body: parsed,
        });
        if (parsed['type'] === 'url_verification') {
          response.writeHead(200, { 'Content-Type': 'text/plain' }).end(String(parsed['challenge']));
          return;
        }
        response.writeHead(app.answers.shift() ?? 200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    context.onTestFinished(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => {
            resolve();
          });
        }),
    );
    return Object.assign(app, {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`,
    });
  }

  const requestedBy = (app: EventApp): Record<string, unknown>[] =>
    app.received
      .map((entry) => entry.body['event'] as Record<string, unknown> | undefined)
      .filter((event): event is Record<string, unknown> => event !== undefined);

  it('verifies the Request URL, then POSTs signed message events, metadata included when subscribed', async (context) => {
    const emulator = await emulatorFor(context, { metadataSubscriptions: ['greenlight_approval_requested'] });
    const app = await eventApp(context);
    expect((await emulator.subscribeEvents({ via: 'http', requestUrl: app.url })).verified).toBe(true);
    expect(app.received[0]?.body).toMatchObject({ type: 'url_verification' });

    const bot = webClient(emulator, {}, 'xoxb-payments-bot');
    const asked = await bot.chat.postMessage({
      channel: '#payments-requests',
      text: 'Approve?',
      metadata: { event_type: 'greenlight_approval_requested', event_payload: { action: 'payment' } },
    });
    await bot.chat.postMessage({
      channel: '#payments-requests',
      text: 'fyi',
      metadata: { event_type: 'payments_audit', event_payload: { id: 'A-1' } },
    });
    await bot.chat.postMessage({ channel: '#private-ops', text: 'the bot is not here' });
    await emulator.waitFor(() => emulator.eventDeliveries().length >= 2);
    const eventId = emulator.eventIdOf('C0PAYREQ', asked.ts ?? '') ?? '';
    expect(app.received.every((entry) => entry.verified)).toBe(true);
    expect(app.received[1]?.body).toMatchObject({
      type: 'event_callback',
      api_app_id: 'A0GREENLIGHT',
      event_id: eventId,
      event: {
        type: 'message',
        channel: 'C0PAYREQ',
        user: 'U0PAYBOT',
        bot_id: 'B0PAYBOT',
        app_id: 'A0PAYBOT',
        ts: asked.ts,
        metadata: { event_type: 'greenlight_approval_requested', event_payload: { action: 'payment' } },
      },
    });
    // Not subscribed: Slack strips the payload and keeps the type.
    expect(requestedBy(app)[1]?.['metadata']).toEqual({ event_type: 'payments_audit' });
    expect(requestedBy(app)).toHaveLength(2);
  });

  it('retries an event the app fails, with X-Slack-Retry-Num, and redelivers on demand', async (context) => {
    const emulator = await emulatorFor(context, { eventRetryDelaysMs: [0, 50, 50] });
    const app = await eventApp(context);
    await emulator.subscribeEvents({ via: 'http', requestUrl: app.url });
    app.answers.push(500, 503);
    const { ts = '' } = await webClient(emulator, {}, 'xoxb-payments-bot').chat.postMessage({
      channel: 'C0PAYREQ',
      text: 'Approve?',
    });
    const eventId = await emulator.waitFor(() => emulator.eventIdOf('C0PAYREQ', ts));
    await emulator.waitFor(() => emulator.eventDeliveries(eventId).some((delivery) => delivery.ok));
    expect(emulator.eventDeliveries(eventId).map((d) => [d.retryNum, d.status])).toEqual([
      [0, 500],
      [1, 503],
      [2, 200],
    ]);
    expect(app.received.slice(1).map((entry) => [entry.retryNum, entry.retryReason])).toEqual([
      [undefined, undefined],
      ['1', 'http_error'],
      ['2', 'http_error'],
    ]);
    const again = await emulator.redeliverEvent(eventId);
    expect(again).toMatchObject({ retryNum: 3, ok: true });
    expect(new Set(requestedBy(app).map((event) => event['ts']))).toEqual(new Set([ts]));

    const forged = await emulator.sendEvent(emulator.eventPayload(eventId) ?? {}, { signingSecret: 'wrong' });
    expect(forged.status).toBe(200); // this app answers everything; it is the signature that is wrong
    expect(app.received.at(-1)?.verified).toBe(false);
  });

  it('tells the app about edits (message_changed), pauses and resumes deliveries', async (context) => {
    const emulator = await emulatorFor(context);
    const app = await eventApp(context);
    await emulator.subscribeEvents({ via: 'http', requestUrl: app.url });
    emulator.setEventDeliveryPaused(true);
    const bot = webClient(emulator, {}, 'xoxb-payments-bot');
    const { ts = '' } = await bot.chat.postMessage({ channel: 'C0PAYREQ', text: 'first' });
    await bot.chat.update({ channel: 'C0PAYREQ', ts, text: 'edited' });
    expect(emulator.eventDeliveries()).toEqual([]);
    emulator.setEventDeliveryPaused(false);
    await emulator.waitFor(() => emulator.eventDeliveries().length >= 2);
    expect(requestedBy(app)[1]).toMatchObject({
      type: 'message',
      subtype: 'message_changed',
      channel: 'C0PAYREQ',
      message: { text: 'edited', ts, bot_id: 'B0PAYBOT' },
      previous_message: { text: 'first', ts },
    });
  });

  it('refuses to subscribe a Request URL that does not echo the challenge', async (context) => {
    const emulator = await emulatorFor(context);
    const server = createServer((_request, response) => response.writeHead(200).end('hello'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    context.onTestFinished(
      () =>
        new Promise<void>((resolve) =>
          server.close(() => {
            resolve();
          }),
        ),
    );
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    expect(await emulator.subscribeEvents({ via: 'http', requestUrl: url })).toMatchObject({
      verified: false,
      status: 200,
      body: 'hello',
    });
    await webClient(emulator, {}, 'xoxb-payments-bot').chat.postMessage({ channel: 'C0PAYREQ', text: 'x' });
    expect(emulator.eventDeliveries()).toEqual([]);
  });

  it('sends events_api envelopes over Socket Mode, again when they are not acked', async (context) => {
    const emulator = await emulatorFor(context, { eventRetryDelaysMs: [0, 0, 0] });
    const client = new SocketModeClient({
      appToken: 'xapp-emulator',
      clientOptions: { slackApiUrl: emulator.apiUrl, retryConfig: { retries: 0 } },
      logLevel: LogLevel.ERROR,
    });
    context.onTestFinished(() => client.disconnect());
    const received: { retryNum: number; text: unknown }[] = [];
    let ignoreFirst = true;
    client.on(
      'message',
      ({
        ack,
        event,
        retry_num,
      }: {
        ack: () => Promise<void>;
        event: { text?: unknown };
        retry_num?: number;
      }) => {
        received.push({ retryNum: retry_num ?? 0, text: event.text });
        if (ignoreFirst) {
          ignoreFirst = false;
          return;
        }
        void ack();
      },
    );
    await client.start();
    await emulator.subscribeEvents({ via: 'socket' });
    const { ts = '' } = await webClient(emulator, {}, 'xoxb-payments-bot').chat.postMessage({
      channel: 'C0PAYREQ',
      text: 'over the socket',
    });
    const eventId = await emulator.waitFor(() => emulator.eventIdOf('C0PAYREQ', ts));
    await emulator.waitFor(() => emulator.eventDeliveries(eventId).some((delivery) => delivery.ok), 10_000);
    expect(emulator.eventDeliveries(eventId).map((d) => [d.retryNum, d.acked])).toEqual([
      [0, false],
      [1, true],
    ]);
    expect(received).toEqual([
      { retryNum: 0, text: 'over the socket' },
      { retryNum: 1, text: 'over the socket' },
    ]);
  }, 15_000);
});
