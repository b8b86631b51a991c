import { describe, expect, it, type TestContext } from 'vitest';
import { parseArgs, recordedArgs } from './args.ts';
import { ChangeFeed } from './changes.ts';
import { FaultQueue } from './faults.ts';
import { interactionBody, slackSignature } from './interactions.ts';
import { compareTs, TsClock } from './messages.ts';
import { admit, ChannelRateLimiter, fullBucket } from './rate-limit.ts';
import { startSlackEmulator, type SlackEmulator } from './index.ts';

// The emulator's pieces on their own, and its HTTP surface without an SDK in between.

describe('rate limit', () => {
  const limit = { perChannelPerSecond: 1, burst: 3 };

  it('allows a burst, then asks to retry after whole seconds until tokens refill', () => {
    let bucket = fullBucket(limit, 0);
    for (let index = 0; index < 3; index += 1) {
      const admission = admit(bucket, limit, 0);
      expect(admission.allowed).toBe(true);
      bucket = admission.bucket;
    }
    expect(admit(bucket, limit, 0)).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    expect(admit(bucket, limit, 400)).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    expect(admit(bucket, limit, 1000).allowed).toBe(true);
    expect(admit(bucket, { perChannelPerSecond: 0.2, burst: 1 }, 0)).toMatchObject({ retryAfterSeconds: 5 });
  });

  it('keeps one bucket per channel and counts rejections', () => {
    const limiter = new ChannelRateLimiter({ perChannelPerSecond: 1, burst: 1 });
    expect(limiter.take('C1', 0)).toBeUndefined();
    expect(limiter.take('C1', 10)).toBe(1);
    expect(limiter.take('C2', 10)).toBeUndefined();
    limiter.countRejection('C1');
    expect([limiter.rejections('C1'), limiter.rejections('C2'), limiter.rejections()]).toEqual([1, 0, 1]);
  });
});

describe('timestamps', () => {
  it('are unique and increasing even within one millisecond', () => {
    const clock = new TsClock();
    const stamps = [
      clock.next(1_700_000_000_000),
      clock.next(1_700_000_000_000),
      clock.next(1_699_999_999_000),
    ];
    expect(stamps).toEqual(['1700000000.000000', '1700000000.000001', '1700000000.000002']);
    expect(compareTs('1700000000.000010', '1700000000.000009')).toBeGreaterThan(0);
  });
});

describe('signatures', () => {
  it("match Slack's published example", () => {
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(slackSignature(body, '8f742231b10e8888abcd99yyyzzz85a5', 1531420618)).toBe(
      'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    );
  });

  it('sign an interaction body that is one url-encoded payload field', () => {
    const body = interactionBody({ type: 'block_actions', text: 'a & b = c' });
    expect(body.startsWith('payload=%7B')).toBe(true);
    expect(JSON.parse(new URLSearchParams(body).get('payload') ?? '')).toEqual({
      type: 'block_actions',
      text: 'a & b = c',
    });
  });
});

describe('arguments', () => {
  it('come from forms, JSON bodies and the query, with JSON fields decoded for the record', () => {
    const form = parseArgs(
      new URLSearchParams('limit=5'),
      'application/x-www-form-urlencoded',
      'channel=C1&blocks=%5B%5D&token=xoxb-x',
    );
    expect(form).toEqual({ ok: true, args: { limit: '5', channel: 'C1', blocks: '[]', token: 'xoxb-x' } });
    if (!form.ok) throw new Error('expected arguments');
    expect(recordedArgs(form.args)).toEqual({ limit: '5', channel: 'C1', blocks: [] });
    expect(
      parseArgs(new URLSearchParams(), 'application/json; charset=utf-8', '{"channel":"C1","limit":5}'),
    ).toEqual({
      ok: true,
      args: { channel: 'C1', limit: 5 },
    });
    expect(parseArgs(new URLSearchParams(), 'application/json', '{oops')).toEqual({
      ok: false,
      error: 'invalid_json',
    });
    expect(parseArgs(new URLSearchParams(), 'application/json', '[1]')).toEqual({
      ok: false,
      error: 'json_not_object',
    });
    expect(parseArgs(new URLSearchParams(), 'text/csv', 'a,b')).toEqual({
      ok: false,
      error: 'invalid_form_data',
    });
  });
});

describe('failure queue', () => {
  it('uses failures up in order, per method or for any method', () => {
    const faults = new FaultQueue();
    faults.add('chat.update', 'http500', 2);
    faults.add('*', 'reset', 1);
    expect([faults.take('chat.update'), faults.take('chat.update'), faults.take('chat.update')]).toEqual([
      'http500',
      'http500',
      'reset',
    ]);
    expect(faults.take('chat.update')).toBeUndefined();
    expect(() => {
      faults.add('auth.test', 'timeout', 0);
    }).toThrow(RangeError);
  });
});

describe('change feed', () => {
  it('resolves waiters when a change makes the condition true, and cancels them', async () => {
    const feed = new ChangeFeed();
    let value = 0;
    const reached = feed.waitFor(() => (value >= 2 ? value : undefined), 1000);
    value = 1;
    feed.notify();
    value = 2;
    feed.notify();
    expect(await reached).toBe(2);
    const cancelled = feed.waitFor(() => false, 1000);
    feed.cancelAll(new Error('closed'));
    await expect(cancelled).rejects.toThrow('closed');
  });
});

describe('HTTP surface', () => {
  async function emulatorFor(context: TestContext): Promise<SlackEmulator> {
    const emulator = await startSlackEmulator();
    context.onTestFinished(() => emulator.close());
    return emulator;
  }

  async function call(
    emulator: SlackEmulator,
    method: string,
    init: { body?: string; headers?: Record<string, string>; query?: string } = {},
  ): Promise<{ status: number; body: unknown; headers: Headers }> {
    const response = await fetch(`${emulator.apiUrl}${method}${init.query ?? ''}`, {
      method: init.body === undefined ? 'GET' : 'POST',
      headers: init.headers ?? {},
      ...(init.body === undefined ? {} : { body: init.body }),
    });
    return { status: response.status, body: await response.json(), headers: response.headers };
  }

  it('takes JSON bodies with a bearer token, GET queries, and form tokens', async (context) => {
    const emulator = await emulatorFor(context);
    const json = await call(emulator, 'chat.postMessage', {
      body: JSON.stringify({
        channel: 'C0DEPLOYS',
        text: 'from JSON',
        metadata: { event_type: 'e', event_payload: { a: 1 } },
      }),
      headers: { Authorization: 'Bearer xoxb-emulator', 'Content-Type': 'application/json' },
    });
    expect(json).toMatchObject({ status: 200, body: { ok: true, channel: 'C0DEPLOYS' } });
    expect(emulator.messages()[0]?.metadata).toEqual({ event_type: 'e', event_payload: { a: 1 } });

    const query = await call(emulator, 'users.info', {
      query: '?user=U0BOB',
      headers: { Authorization: 'Bearer xoxb-emulator' },
    });
    expect(query.body).toMatchObject({ ok: true, user: { name: 'bob' } });
    const form = await call(emulator, 'auth.test', {
      body: 'token=xoxb-emulator',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    expect(form.body).toMatchObject({ ok: true, user_id: 'U0GREENLIGHT' });
    expect(JSON.stringify(emulator.calls())).not.toContain('xoxb-emulator');
  });

  it('answers invalid JSON, missing auth and unknown paths like Slack', async (context) => {
    const emulator = await emulatorFor(context);
    const badJson = await call(emulator, 'chat.postMessage', {
      body: '{nope',
      headers: { Authorization: 'Bearer xoxb-emulator', 'Content-Type': 'application/json' },
    });
    expect(badJson).toMatchObject({ status: 200, body: { ok: false, error: 'invalid_json' } });
    expect((await call(emulator, 'auth.test')).body).toEqual({ ok: false, error: 'not_authed' });
    expect((await call(emulator, 'auth.test', { headers: { Authorization: 'Basic abc' } })).body).toEqual({
      ok: false,
      error: 'invalid_auth',
    });
    const rateLimited = await (async () => {
      emulator.failNext('auth.test', { ratelimited: 3 });
      return call(emulator, 'auth.test', { headers: { Authorization: 'Bearer xoxb-emulator' } });
    })();
    expect(rateLimited.status).toBe(429);
    expect(rateLimited.headers.get('retry-after')).toBe('3');
    expect(rateLimited.body).toEqual({ ok: false, error: 'ratelimited' });
    expect((await fetch(`${emulator.baseUrl}elsewhere`)).status).toBe(404);
  });

  it('cuts requests held by a timeout failure when faults are reset', async (context) => {
    const emulator = await emulatorFor(context);
    emulator.failNext('auth.test', 'timeout');
    const held = fetch(`${emulator.apiUrl}auth.test`, {
      method: 'POST',
      headers: { Authorization: 'Bearer xoxb-emulator' },
    });
    await emulator.waitFor(() => emulator.calls('auth.test').find((entry) => entry.status === 'timeout'));
    emulator.resetFaults();
    await expect(held).rejects.toThrow();
  });
});
