import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ReplayGuard, verifySlackSignature } from './verify.ts';

// Slack's published example (api.slack.com/authentication/verifying-requests-from-slack).
const secret = '8f742231b10e8888abcd99yyyzzz85a5';
const timestamp = '1531420618';
const body =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const signature = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';

const check = (overrides: Partial<Parameters<typeof verifySlackSignature>[0]> = {}) =>
  verifySlackSignature({
    signingSecret: secret,
    timestamp,
    signature,
    rawBody: Buffer.from(body),
    nowSeconds: Number(timestamp) + 10,
    ...overrides,
  });

describe('verifySlackSignature', () => {
  it("accepts Slack's own example", () => {
    expect(check()).toBe('ok');
  });

  it.each([
    ['a body changed by one byte', { rawBody: Buffer.from(`${body}x`) }, 'bad_signature'],
    ['another secret', { signingSecret: 'not-the-secret' }, 'bad_signature'],
    ['no signature', { signature: undefined }, 'bad_signature'],
    ['a signature of another version', { signature: signature.replace('v0=', 'v1=') }, 'bad_signature'],
    ['a truncated signature', { signature: signature.slice(0, 20) }, 'bad_signature'],
    // Found by fuzzing (receivers.property.test.ts): each other spelling of the right MAC passed the
    // replay guard as a new signature, so a captured click could be replayed within five minutes.
    ['the right MAC in upper case', { signature: `v0=${signature.slice(3).toUpperCase()}` }, 'bad_signature'],
    ['the right MAC and one more hex digit', { signature: `${signature}0` }, 'bad_signature'],
    ['the right MAC and trailing junk', { signature: `${signature}zz` }, 'bad_signature'],
    ['no timestamp', { timestamp: undefined }, 'bad_signature'],
    ['a timestamp that is not a number', { timestamp: '15314e5' }, 'bad_signature'],
    ['a request older than five minutes', { nowSeconds: Number(timestamp) + 301 }, 'stale'],
    ['a request from the future', { nowSeconds: Number(timestamp) - 301 }, 'stale'],
  ] as const)('refuses %s', (_case, overrides, verdict) => {
    expect(check(overrides)).toBe(verdict);
  });

  it('accepts the same body signed now', () => {
    const now = Math.floor(Date.now() / 1000);
    const mac = createHmac('sha256', secret).update(`v0:${now}:${body}`).digest('hex');
    expect(check({ timestamp: String(now), signature: `v0=${mac}`, nowSeconds: now })).toBe('ok');
  });
});

describe('ReplayGuard', () => {
  it('accepts a signature once and refuses it again within the window', () => {
    const guard = new ReplayGuard();
    expect(guard.firstTime('v0=abc', 1000)).toBe(true);
    expect(guard.firstTime('v0=abc', 1100)).toBe(false);
    expect(guard.firstTime('v0=def', 1100)).toBe(true);
  });

  it('forgets signatures after the window', () => {
    const guard = new ReplayGuard();
    guard.firstTime('v0=abc', 1000);
    expect(guard.firstTime('v0=abc', 1000 + 601)).toBe(true);
  });
});
