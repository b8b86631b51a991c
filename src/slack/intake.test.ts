import { describe, expect, it } from 'vitest';
import type { ApprovalIntake, ApprovalIntakeSpec } from '../api/v1alpha1/approval-intake.ts';
import {
  admit,
  askingThread,
  intakeFor,
  parseEvent,
  requestName,
  type AskingMessage,
  type OwnIdentity,
} from './intake.ts';
import { judgeMessage, validatePayload } from './intake-judge.ts';

const own: OwnIdentity = { botUserId: 'U0GREENLIGHT', botId: 'B0GREENLIGHT', appId: 'A0GREENLIGHT' };

const intake = (
  name: string,
  spec: Partial<ApprovalIntakeSpec> = {},
  created = '2026-01-01T00:00:00Z',
  namespace = 'finance',
): ApprovalIntake => ({
  apiVersion: 'greenlight.dev/v1alpha1',
  kind: 'ApprovalIntake',
  metadata: { name, namespace, creationTimestamp: created },
  spec: {
    slack: { channel: '#payments-requests' },
    senders: { slackBots: ['B0PAYBOT'], slackApps: ['A0WORKFLOWS'], slackUsers: ['U0ALICE'] },
    ...spec,
  },
});

/** A Slack `event_callback` of a message, as the Events API sends it. */
const callback = (event: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  type: 'event_callback',
  api_app_id: 'A0GREENLIGHT',
  event_id: 'Ev01',
  event: { type: 'message', channel: 'C0PAYREQ', ts: '1700000000.000100', ...event },
  ...extra,
});
const asking = { event_type: 'greenlight_approval_requested', event_payload: { action: 'payment' } };
const fromBot = { user: 'U0PAYBOT', bot_id: 'B0PAYBOT', app_id: 'A0PAYBOT', metadata: asking };

describe('parseEvent', () => {
  it('answers the url_verification handshake', () => {
    expect(parseEvent({ type: 'url_verification', challenge: 'abc', token: 't' }, own)).toEqual({
      kind: 'url_verification',
      challenge: 'abc',
    });
  });

  it('reads a bot’s asking message: who, where, which thread, the payload', () => {
    expect(parseEvent(callback(fromBot), own)).toEqual({
      kind: 'asking',
      message: {
        eventId: 'Ev01',
        channel: 'C0PAYREQ',
        ts: '1700000000.000100',
        threadTs: '1700000000.000100',
        sender: { user: 'U0PAYBOT', botId: 'B0PAYBOT', appId: 'A0PAYBOT' },
        payload: { action: 'payment' },
      },
    });
  });

  it('answers a message asked in a thread in that thread, and takes the app id from bot_profile', () => {
    const parsed = parseEvent(
      callback({
        bot_id: 'B0PAYBOT',
        bot_profile: { app_id: 'A0PAYBOT' },
        thread_ts: '1699999999.000001',
        metadata: asking,
      }),
      own,
    );
    expect(parsed.kind === 'asking' && parsed.message.threadTs).toBe('1699999999.000001');
    expect(parsed.kind === 'asking' && parsed.message.sender.appId).toBe('A0PAYBOT');
  });

  it.each([
    ['an edit', callback({ ...fromBot, subtype: 'message_changed' }), 'edit-or-other-subtype'],
    ['a deletion', callback({ subtype: 'message_deleted' }), 'edit-or-other-subtype'],
    ['Greenlight’s own bot', callback({ ...fromBot, bot_id: 'B0GREENLIGHT' }), 'greenlight-itself'],
    ['Greenlight’s own app', callback({ ...fromBot, app_id: 'A0GREENLIGHT' }), 'greenlight-itself'],
    ['Greenlight’s bot user', callback({ user: 'U0GREENLIGHT', metadata: asking }), 'greenlight-itself'],
    ['ordinary chat', callback({ user: 'U0ALICE', text: 'hi' }), 'not-asking'],
    [
      'another metadata type',
      callback({ ...fromBot, metadata: { event_type: 'greenlight_approval_decided' } }),
      'not-asking',
    ],
    ['a reaction', callback({ type: 'reaction_added' }), 'not-a-message'],
    ['something else', { type: 'app_rate_limited' }, 'not-an-event'],
    ['garbage', 'not json at all', 'not-an-event'],
  ])('ignores %s', (_case, payload, why) => {
    expect(parseEvent(payload, own)).toEqual({ kind: 'ignored', why });
  });

  it('keeps a message whose payload Slack stripped: intake says why', () => {
    const parsed = parseEvent(
      callback({ ...fromBot, metadata: { event_type: 'greenlight_approval_requested' } }),
      own,
    );
    expect(parsed.kind === 'asking' && parsed.message.payload).toBeUndefined();
  });
});

describe('which intake listens, and who may ask', () => {
  it('gives a channel to its oldest intake, then by namespace and name', () => {
    const older = intake('older', {}, '2026-01-01T00:00:00Z', 'zeta');
    const newer = intake('newer', {}, '2026-02-01T00:00:00Z', 'alpha');
    const same = intake('same-time', {}, '2026-01-01T00:00:00Z', 'alpha');
    const resolved = [newer, older, same].map((candidate) => ({ intake: candidate, channelId: 'C0PAYREQ' }));
    expect(intakeFor(resolved, 'C0PAYREQ')?.metadata.name).toBe('same-time');
    expect(intakeFor(resolved, 'C0OTHER')).toBeUndefined();
    expect(intakeFor([{ intake: older, channelId: undefined }], 'C0PAYREQ')).toBeUndefined();
  });

  it('matches bots, then apps, then users; the first match names the requester', () => {
    const listening = intake('payments');
    expect(admit(listening, { user: 'U0PAYBOT', botId: 'B0PAYBOT', appId: 'A0WORKFLOWS' })).toEqual({
      requester: 'slack:B0PAYBOT',
      slackUser: 'U0PAYBOT',
    });
    expect(admit(listening, { user: 'U0WFBOT', botId: 'B0OTHER', appId: 'A0WORKFLOWS' })?.requester).toBe(
      'slack:A0WORKFLOWS',
    );
    expect(admit(listening, { user: 'U0ALICE', botId: undefined, appId: undefined })?.requester).toBe(
      'slack:U0ALICE',
    );
    expect(admit(listening, { user: 'U0BOB', botId: undefined, appId: undefined })).toBeUndefined();
    expect(admit(listening, { user: 'U0X', botId: 'B0UNKNOWN', appId: 'A0UNKNOWN' })).toBeUndefined();
  });
});

describe('validatePayload', () => {
  it('takes the fields of a request, as the API server would', () => {
    const payload = {
      action: 'payment',
      resource: 'invoice/INV-43',
      parameters: { amount: 5000, currency: 'USD' },
      reason: 'Q4 hardware',
      timeout: '4h',
    };
    expect(validatePayload(payload)).toEqual({ spec: payload });
  });

  it.each([
    ['no action', {}, 'event_payload.action: required'],
    ['an action with spaces', { action: 'Pay Now' }, 'event_payload.action: must match pattern'],
    [
      'a misspelt field',
      { action: 'payment', paramters: { amount: 5 } },
      'event_payload: unknown field paramters',
    ],
    [
      'parameters as text',
      { action: 'payment', parameters: 'amount=5' },
      'event_payload.parameters: must be object',
    ],
    [
      'a timeout in words',
      { action: 'payment', timeout: 'soon' },
      'event_payload.timeout: must match pattern',
    ],
    [
      'a zero timeout',
      { action: 'payment', timeout: '0s' },
      'event_payload.timeout: must be a positive duration',
    ],
    ['a reason too long', { action: 'payment', reason: 'x'.repeat(1025) }, 'event_payload.reason'],
    [
      'parameters over 16 KiB',
      { action: 'payment', parameters: { blob: 'x'.repeat(17 * 1024) } },
      'event_payload.parameters: 17419 bytes serialized, more than 16384',
    ],
    [
      'a requester of its own',
      { action: 'payment', requester: 'alice' },
      'event_payload: unknown field requester',
    ],
  ])('refuses %s, naming the field', (_case, payload, problem) => {
    const checked = validatePayload(payload);
    expect('problems' in checked && checked.problems.join('; ')).toContain(problem);
  });

  it('says what to do when Slack left the payload out', () => {
    const checked = validatePayload(undefined);
    expect('problems' in checked && checked.problems[0]).toContain('metadata_subscriptions');
  });
});

describe('judgeMessage', () => {
  const message = (
    sender: Partial<AskingMessage['sender']>,
    payload: Record<string, unknown> | undefined,
  ) => ({
    eventId: 'Ev01',
    channel: 'C0PAYREQ',
    ts: '1700000000.000100',
    threadTs: '1700000000.000100',
    sender: { user: undefined, botId: undefined, appId: undefined, ...sender },
    payload,
  });

  it('makes a request named from channel and ts, in the intake’s namespace, saying where it came from', () => {
    const verdict = judgeMessage(
      message({ user: 'U0PAYBOT', botId: 'B0PAYBOT', appId: 'A0PAYBOT' }, { action: 'payment' }),
      intake('payments', { defaults: { timeout: '2h' } }),
    );
    expect(verdict).toEqual({
      result: 'create',
      request: {
        namespace: 'finance',
        name: 'slack-c0payreq-1700000000-000100',
        spec: { action: 'payment', requester: 'slack:B0PAYBOT', timeout: '2h' },
        labels: { 'greenlight.dev/intake': 'payments' },
        annotations: {
          'greenlight.dev/slack-channel': 'C0PAYREQ',
          'greenlight.dev/slack-ts': '1700000000.000100',
          'greenlight.dev/slack-user': 'U0PAYBOT',
        },
      },
    });
    if (verdict.result !== 'create') throw new Error('not created');
    const { annotations, spec } = verdict.request;
    expect(askingThread({ metadata: { annotations }, spec })).toEqual({
      channel: 'C0PAYREQ',
      ts: '1700000000.000100',
      threadTs: '1700000000.000100',
    });
  });

  it('refuses a channel without intake, a sender not listed, and says what is invalid', () => {
    expect(judgeMessage(message({ user: 'U0ALICE' }, { action: 'payment' }), undefined)).toEqual({
      result: 'refused',
      why: 'no ApprovalIntake listens to this channel, so nobody may ask here',
    });
    expect(
      judgeMessage(message({ botId: 'B0EVIL', appId: 'A0EVIL' }, { action: 'payment' }), intake('payments')),
    ).toEqual({
      result: 'refused',
      why: 'bot B0EVIL (app A0EVIL) may not ask here: ApprovalIntake finance/payments lists who may (spec.senders)',
    });
    expect(judgeMessage(message({ user: 'U0BOB' }, { action: 'payment' }), intake('payments'))).toMatchObject(
      {
        result: 'refused',
        why: expect.stringContaining('<@U0BOB> may not ask here') as unknown,
      },
    );
    expect(
      judgeMessage(message({ user: 'U0ALICE' }, { action: 'payment', amount: 5 }), intake('payments')),
    ).toEqual({
      result: 'invalid',
      why: 'event_payload: unknown field amount',
    });
  });

  it('names requests so that one message makes one request, whatever the retries', () => {
    expect(requestName('C0PAYREQ', '1700000000.000100')).toBe('slack-c0payreq-1700000000-000100');
    expect(requestName('G0PRIVATE', '1700000000.000101')).not.toBe(
      requestName('C0PAYREQ', '1700000000.000101'),
    );
  });
});
