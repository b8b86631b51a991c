import { describe, expect, it } from 'vitest';
import { REDACTED, isSecretKey, redact, redactField, redactText } from './redact.ts';

describe('redactText', () => {
  it.each([
    ['posting with xoxb-1234-5678-abcDEF failed', 'posting with [REDACTED] failed'],
    ['user token xoxp-1-2-3-abc', 'user token [REDACTED]'],
    ['socket mode with xapp-1-A1-abc', 'socket mode with [REDACTED]'],
    ['legacy xoxa-2-abc and refresh xoxe-1-abc', 'legacy [REDACTED] and refresh [REDACTED]'],
    ['Authorization: Bearer eyJhbGciOi.payload.sig', 'Authorization: Bearer [REDACTED]'],
    ['authorization=bearer abc123', 'authorization=bearer [REDACTED]'],
    ['sa token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln here', 'sa token [REDACTED] here'],
    ['GET https://bot:hunter2@proxy.example.com/api', 'GET https://bot:[REDACTED]@proxy.example.com/api'],
    ['GET /api/auth.test?token=abc123&pretty=1', 'GET /api/auth.test?token=[REDACTED]&pretty=1'],
    ['{"signingSecret":"8f742231b10e"}', '{"signingSecret":"[REDACTED]"}'],
    ['SLACK_SIGNING_SECRET=8f742231b10e', 'SLACK_SIGNING_SECRET=[REDACTED]'],
    ['password: hunter2', 'password: [REDACTED]'],
  ])('%j becomes %j', (text, redacted) => {
    expect(redactText(text)).toBe(redacted);
  });

  it.each([
    'request team-a/deploy-web approved by policy:deploys/staging-green',
    'the token bucket is empty, retrying in 3s',
    'xoxb tokens start with xoxb',
    'https://slack.com/api/chat.postMessage',
  ])('leaves %j alone', (text) => {
    expect(redactText(text)).toBe(text);
  });

  it('stays fast on long unbroken text', () => {
    const started = performance.now();
    redactText('a'.repeat(200_000) + 'token'.repeat(1000));
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('isSecretKey', () => {
  it.each(['token', 'botToken', 'appToken', 'SLACK_BOT_TOKEN', 'signingSecret', 'password', 'Authorization'])(
    '%s is secret',
    (key) => {
      expect(isSecretKey(key)).toBe(true);
    },
  );

  it.each(['namespace', 'name', 'decidedBy', 'channel', 'requester'])('%s is not', (key) => {
    expect(isSecretKey(key)).toBe(false);
  });
});

describe('redact', () => {
  it('hides values under secret keys at any depth, and secret text in any string', () => {
    const config = {
      slack: { botToken: 'xoxb-1-abc', appToken: 'xapp-1-A1-abc', channel: '#approvals' },
      headers: { Authorization: 'Basic dXNlcjpwYXNz' },
      notes: ['called with Bearer abc.def'],
    };
    expect(redact(config)).toEqual({
      slack: { botToken: REDACTED, appToken: REDACTED, channel: '#approvals' },
      headers: { Authorization: REDACTED },
      notes: [`called with Bearer ${REDACTED}`],
    });
    expect(config.slack.botToken).toBe('xoxb-1-abc');
  });

  it('serializes errors with their message, own fields, stack and cause, all redacted', () => {
    const cause = new Error('invalid_auth for xoxb-9-zzz');
    const error = Object.assign(new Error('chat.postMessage failed', { cause }), {
      code: 'slack_webapi_platform_error',
    });
    const serialized = redact(error) as Record<string, unknown>;
    expect(serialized['name']).toBe('Error');
    expect(serialized['message']).toBe('chat.postMessage failed');
    expect(serialized['code']).toBe('slack_webapi_platform_error');
    expect(serialized['stack']).toMatch(/^Error: chat.postMessage failed\n/);
    expect(serialized['cause']).toMatchObject({ message: `invalid_auth for ${REDACTED}` });
    expect(JSON.stringify(serialized)).not.toContain('xoxb-9-zzz');
  });

  it('turns anything into JSON-safe values', () => {
    const circular: Record<string, unknown> = { name: 'loop' };
    circular['self'] = circular;
    expect(
      redact({
        circular,
        big: 10n,
        when: new Date('2025-01-01T00:00:00Z'),
        bytes: Buffer.from('secret'),
        map: new Map([['token', 'xoxb-1-a']]),
        set: new Set(['a']),
        callback: () => 1,
        url: new URL('https://u:p@example.com/x'),
        broken: {
          toJSON: (): never => {
            throw new Error('no');
          },
        },
      }),
    ).toEqual({
      circular: { name: 'loop', self: '[Circular]' },
      big: '10',
      when: '2025-01-01T00:00:00.000Z',
      bytes: '[6 bytes]',
      map: { token: REDACTED },
      set: ['a'],
      callback: undefined,
      url: `https://u:${REDACTED}@example.com/x`,
      broken: '[Unserializable]',
    });
  });

  it('cuts off very deep structures', () => {
    let deep: unknown = 'bottom';
    for (let level = 0; level < 20; level++) deep = { deeper: deep };
    expect(JSON.stringify(redact(deep))).toContain('[Truncated]');
  });

  it('redacts one field by its key', () => {
    expect(redactField('token', 'anything')).toBe(REDACTED);
    expect(redactField('token', undefined)).toBeUndefined();
    expect(redactField('namespace', 'team-a')).toBe('team-a');
  });
});
