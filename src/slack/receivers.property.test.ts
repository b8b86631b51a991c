import { createHmac } from 'node:crypto';
import { Writable } from 'node:stream';
import fc, { type Arbitrary } from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HttpRequest, HttpResponse } from '../observability/http.ts';
import { createLogger } from '../observability/logger.ts';
import type { SlackInteractionResult } from '../observability/metrics.ts';
import { ActionId } from './messages.ts';
import { slackRoute } from './receivers.ts';
import { MAX_AGE_SECONDS } from './verify.ts';

// What Slack (or anyone who can reach the port) sends to POST /slack/events, generated: Events API
// JSON and form-encoded interactivity, well-formed and garbage, with hostile field values, signed
// correctly, signed with another secret, over another body, stale, from the future, unsigned, or
// with the headers themselves mangled. The route is driven as the HTTP server calls it; the handlers
// it calls are where every side effect starts (a request created, an answer recorded), so a refused
// request must reach neither.

const SECRET = 'fuzz-signing-secret-8f742231b10e8888';
const NOW_MS = Date.parse('2026-03-02T12:00:00Z');
const NOW_S = NOW_MS / 1000;

const JSON_TYPES = ['application/json', 'application/json; charset=utf-8'] as const;
const FORM_TYPES = ['application/x-www-form-urlencoded', undefined] as const;

function mac(secret: string, timestamp: string, body: string): string {
  return createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
}

const sign = (timestamp: string, body: string, secret = SECRET): string =>
  `v0=${mac(secret, timestamp, body)}`;

// ---- field values ----

const hostile: Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 20 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '\u0000',
      '\ud800',
      '\u{1F680}',
      '../../../etc/passwd',
      '<script>alert(1)</script>',
      '${jndi:ldap://x}',
      "'; DROP TABLE requests; --",
      'C0PAYREQ',
      '1700000000.000100',
      '1700000000.000100.7',
      'x'.repeat(5000),
      '%00',
      'payload=',
      '&payload=x',
    ),
  },
);

/** A string field, or any other JSON in its place. */
const field: Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: hostile },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

const maybe = <T>(value: Arbitrary<T>): Arbitrary<T | undefined> =>
  fc.option(value, { nil: undefined, freq: 4 });

/** A JSON object (the only shape an Events API body or an interaction payload has). */
const anyObject: Arbitrary<Record<string, unknown>> = fc.dictionary(
  fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('type', 'event', 'actions', 'user', '__proto__')),
  fc.jsonValue({ maxDepth: 3 }),
  { maxKeys: 6 },
);

const eventPayload: Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({ type: fc.constant('url_verification'), token: field, challenge: field }),
  fc.record(
    {
      type: fc.constant('event_callback'),
      api_app_id: field,
      event_id: field,
      event: fc.record(
        {
          type: fc.oneof(fc.constant('message'), field),
          subtype: maybe(fc.oneof(fc.constantFrom('bot_message', 'message_changed'), field)),
          channel: field,
          ts: field,
          thread_ts: maybe(field),
          user: maybe(field),
          bot_id: maybe(field),
          app_id: maybe(field),
          metadata: fc.record({
            event_type: fc.oneof(fc.constant('greenlight_approval_requested'), field),
            event_payload: fc.oneof(
              fc.record(
                { action: field, parameters: fc.jsonValue({ maxDepth: 3 }), timeout: field, reason: field },
                { requiredKeys: [] },
              ),
              fc.jsonValue({ maxDepth: 2 }),
            ),
          }),
        },
        { requiredKeys: ['type'] },
      ),
    },
    { requiredKeys: ['type', 'event'] },
  ),
  anyObject,
);

const buttonValue: Arbitrary<unknown> = fc.oneof(
  fc
    .record({ namespace: field, name: field, uid: field }, { requiredKeys: [] })
    .map((value) => JSON.stringify(value)),
  field,
);

const interactionPayload: Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record(
    {
      type: fc.oneof(fc.constant('block_actions'), field),
      user: fc.oneof(fc.record({ id: field }), field),
      channel: maybe(fc.record({ id: field })),
      container: maybe(fc.record({ channel_id: field })),
      actions: fc.oneof(
        fc.array(
          fc.record(
            {
              action_id: fc.oneof(fc.constantFrom(ActionId.Approve, ActionId.Deny), field),
              value: buttonValue,
            },
            { requiredKeys: [] },
          ),
          { maxLength: 3 },
        ),
        field,
      ),
    },
    { requiredKeys: ['type'] },
  ),
  anyObject,
);

// ---- bodies ----

/** A well-formed request: what Slack itself would send, whatever the values inside. */
interface WellFormed {
  readonly kind: 'event' | 'click';
  readonly contentType: string | undefined;
  readonly body: string;
  /** What the handler must be given. */
  readonly payload: unknown;
}

const wellFormedEvent: Arbitrary<WellFormed> = fc
  .tuple(eventPayload, fc.constantFrom(...JSON_TYPES))
  .map(([payload, contentType]) => {
    const body = JSON.stringify(payload);
    return { kind: 'event', contentType, body, payload: JSON.parse(body) as unknown };
  });

/** A form with the payload field somewhere among other fields, as Slack's and hostile ones. */
const wellFormedClick: Arbitrary<WellFormed> = fc
  .tuple(
    interactionPayload,
    fc.constantFrom(...FORM_TYPES),
    fc.array(fc.tuple(fc.constantFrom('token', 'team', 'x', ''), hostile), { maxLength: 2 }),
  )
  .map(([payload, contentType, others]) => {
    const json = JSON.stringify(payload);
    const form = new URLSearchParams([['payload', json], ...others]);
    return { kind: 'click', contentType, body: form.toString(), payload: JSON.parse(json) as unknown };
  });

const wellFormed: Arbitrary<WellFormed> = fc.oneof(wellFormedEvent, wellFormedClick);

const notJson: Arbitrary<string> = fc
  .oneof(
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc.constantFrom('', '{', '{"type":', 'undefined', "{'type':'event_callback'}", '[1,]', 'NaN', '\ufeff{}'),
    fc.jsonValue().map((value) => `${JSON.stringify(value)}}`),
  )
  .filter((text) => {
    try {
      JSON.parse(text);
      return false;
    } catch {
      return true;
    }
  });

const notAnObject: Arbitrary<string> = fc
  .oneof(
    fc.constantFrom(null, 0, -1, true, false, 'event_callback', [], [{ type: 'block_actions' }]),
    fc.jsonValue(),
  )
  .filter((value) => typeof value !== 'object' || value === null || Array.isArray(value))
  .map((value) => JSON.stringify(value));

/** Signed bodies that no Slack sends: not JSON, JSON that is no object, a form without a payload. */
interface Malformed {
  readonly contentType: string | undefined;
  readonly body: string;
}

const malformed: Arbitrary<Malformed> = fc.oneof(
  fc.record({
    contentType: fc.constantFrom<string | undefined>(...JSON_TYPES),
    body: fc.oneof(notJson, notAnObject),
  }),
  fc.record({
    contentType: fc.constantFrom<string | undefined>(...FORM_TYPES),
    body: fc.oneof(
      fc.oneof(notJson, notAnObject).map((payload) => new URLSearchParams({ payload }).toString()),
      fc
        .array(fc.tuple(fc.constantFrom('token', 'Payload', 'payload ', 'x'), hostile), { maxLength: 3 })
        .map((fields) => new URLSearchParams(fields).toString()),
      notJson,
    ),
  }),
);

// ---- signatures ----

/** How a request carries (or fails to carry) Slack's signature. */
type Forgery =
  | { readonly kind: 'unsigned' }
  | { readonly kind: 'no-signature' }
  | { readonly kind: 'no-timestamp' }
  | { readonly kind: 'other-secret'; readonly secret: string }
  | { readonly kind: 'other-body'; readonly suffix: string }
  | { readonly kind: 'stale'; readonly offset: number }
  | { readonly kind: 'bad-timestamp'; readonly timestamp: string }
  | { readonly kind: 'garbage-signature'; readonly signature: string }
  | { readonly kind: 're-encoded'; readonly how: ReEncoding };

/** The right MAC written some other way than Slack writes it (`v0=` and 64 lower-case hex digits). */
type ReEncoding =
  | { readonly kind: 'upper-case' }
  | { readonly kind: 'suffix'; readonly suffix: string }
  | { readonly kind: 'other-version'; readonly version: string };

const reEncoding: Arbitrary<ReEncoding> = fc.oneof(
  fc.constant({ kind: 'upper-case' as const }),
  fc.record({
    kind: fc.constant('suffix' as const),
    suffix: fc.oneof(
      fc.constantFrom('0', 'f', 'z', ' ', '==', '\n', 'g0'),
      fc.string({ minLength: 1, maxLength: 4 }),
    ),
  }),
  fc.record({
    kind: fc.constant('other-version' as const),
    version: fc.constantFrom('v1=', 'V0=', 'v0:', ''),
  }),
);

const forgery: Arbitrary<Forgery> = fc.oneof(
  fc.constant({ kind: 'unsigned' as const }),
  fc.constant({ kind: 'no-signature' as const }),
  fc.constant({ kind: 'no-timestamp' as const }),
  fc.record({
    kind: fc.constant('other-secret' as const),
    secret: fc.string({ maxLength: 40 }).filter((secret) => secret !== SECRET),
  }),
  fc.record({
    kind: fc.constant('other-body' as const),
    suffix: fc.string({ unit: 'binary', minLength: 1 }),
  }),
  fc.record({
    kind: fc.constant('stale' as const),
    offset: fc.oneof(
      fc.integer({ min: MAX_AGE_SECONDS + 1, max: 10 ** 9 }),
      fc.integer({ min: -(10 ** 9), max: -(MAX_AGE_SECONDS + 1) }),
    ),
  }),
  fc.record({
    kind: fc.constant('bad-timestamp' as const),
    timestamp: fc.oneof(
      fc.constantFrom(
        '',
        ' ',
        `${NOW_S}.0`,
        `+${NOW_S}`,
        `${NOW_S} `,
        '1e9',
        '0x69a5',
        '-1',
        '99999999999999999999',
      ),
      fc.string({ maxLength: 12 }).filter((text) => !/^[0-9]+$/.test(text)),
    ),
  }),
  fc.record({ kind: fc.constant('garbage-signature' as const), signature: fc.string({ maxLength: 80 }) }),
  fc.record({ kind: fc.constant('re-encoded' as const), how: reEncoding }),
);

function reEncode(signature: string, how: ReEncoding): string {
  switch (how.kind) {
    case 'upper-case':
      return `v0=${signature.slice(3).toUpperCase()}`;
    case 'suffix':
      return `${signature}${how.suffix}`;
    case 'other-version':
      return `${how.version}${signature.slice(3)}`;
  }
}

function headers(options: {
  readonly contentType: string | undefined;
  readonly timestamp?: string | undefined;
  readonly signature?: string | undefined;
}): HttpRequest['headers'] {
  return {
    ...(options.contentType === undefined ? {} : { 'content-type': options.contentType }),
    ...(options.timestamp === undefined ? {} : { 'x-slack-request-timestamp': options.timestamp }),
    ...(options.signature === undefined ? {} : { 'x-slack-signature': options.signature }),
  };
}

const request = (body: string, requestHeaders: HttpRequest['headers']): HttpRequest => ({
  method: 'POST',
  url: new URL('http://localhost/slack/events'),
  headers: requestHeaders,
  body,
});

function signed(body: string, contentType: string | undefined, at = NOW_S): HttpRequest {
  const timestamp = String(at);
  return request(body, headers({ contentType, timestamp, signature: sign(timestamp, body) }));
}

function forged(body: string, contentType: string | undefined, how: Forgery): HttpRequest {
  const timestamp = String(NOW_S);
  const good = sign(timestamp, body);
  const withHeaders = (given: { timestamp?: string; signature?: string }): HttpRequest =>
    request(body, headers({ contentType, ...given }));
  switch (how.kind) {
    case 'unsigned':
      return withHeaders({});
    case 'no-signature':
      return withHeaders({ timestamp });
    case 'no-timestamp':
      return withHeaders({ signature: good });
    case 'other-secret':
      return withHeaders({ timestamp, signature: sign(timestamp, body, how.secret) });
    case 'other-body':
      return request(`${body}${how.suffix}`, headers({ contentType, timestamp, signature: good }));
    case 'stale': {
      const then = String(NOW_S + how.offset);
      // Signed correctly, but at a time too far from now.
      return withHeaders({ timestamp: then, signature: sign(then, body) });
    }
    case 'bad-timestamp':
      return withHeaders({ timestamp: how.timestamp, signature: sign(how.timestamp, body) });
    case 'garbage-signature':
      return withHeaders({ timestamp, signature: how.signature });
    case 're-encoded':
      return withHeaders({ timestamp, signature: reEncode(good, how.how) });
  }
}

// ---- the route under test ----

interface Harness {
  readonly route: (request: HttpRequest) => Promise<HttpResponse>;
  readonly clicks: unknown[];
  readonly events: unknown[];
  readonly refusals: SlackInteractionResult[];
  readonly logs: string[];
}

function harness(
  options: {
    readonly handle?: (payload: unknown) => Promise<void>;
    readonly eventAnswer?: { status: number; body: string };
    readonly now?: () => number;
  } = {},
): Harness {
  const clicks: unknown[] = [];
  const events: unknown[] = [];
  const refusals: SlackInteractionResult[] = [];
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const route = slackRoute({
    signingSecret: SECRET,
    handle: (payload) => {
      clicks.push(payload);
      return options.handle?.(payload) ?? Promise.resolve();
    },
    handleEvent: (payload) => {
      events.push(payload);
      return Promise.resolve(options.eventAnswer ?? { status: 200, body: 'handled' });
    },
    refused: (result) => refusals.push(result),
    logger: createLogger({ format: 'json', level: 'debug', stream }),
    now: options.now ?? ((): number => NOW_MS),
  });
  return { route: async (given) => route(given), clicks, events, refusals, logs };
}

function expectWellFormed(response: HttpResponse): void {
  expect(Number.isInteger(response.status)).toBe(true);
  expect(response.status).toBeGreaterThanOrEqual(200);
  expect(response.status).toBeLessThan(600);
  expect(typeof response.body).toBe('string');
}

const RUNS = 300;

describe('POST /slack/events, whatever is sent', () => {
  it('refuses anything unsigned, forged, stale or re-encoded with 401, and hands nothing on', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          wellFormed.map(({ body, contentType }) => ({ body, contentType })),
          malformed,
        ),
        forgery,
        async ({ body, contentType }, how) => {
          const { route, clicks, events, refusals } = harness();
          const response = await route(forged(body, contentType, how));
          expectWellFormed(response);
          expect(response.status).toBe(401);
          expect(clicks).toEqual([]);
          expect(events).toEqual([]);
          expect(refusals).toEqual([how.kind === 'stale' ? 'stale' : 'bad_signature']);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('hands a signed event or click on exactly once, as sent, and answers as its handler does', async () => {
    await fc.assert(
      fc.asyncProperty(
        wellFormed,
        fc.integer({ min: -MAX_AGE_SECONDS, max: MAX_AGE_SECONDS }),
        fc.constantFrom({ status: 200, body: 'handled' }, { status: 500, body: 'try again' }),
        async ({ kind, contentType, body, payload }, skew, eventAnswer) => {
          const { route, clicks, events, refusals } = harness({ eventAnswer });
          const response = await route(signed(body, contentType, NOW_S + skew));
          expectWellFormed(response);
          expect(refusals).toEqual([]);
          if (kind === 'event') {
            expect(events).toEqual([payload]);
            expect(clicks).toEqual([]);
            expect(response).toEqual(eventAnswer);
          } else {
            expect(clicks).toEqual([payload]);
            expect(events).toEqual([]);
            expect(response.status).toBe(200);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('refuses a signed body no Slack sends with 400 and the reason, and hands nothing on', async () => {
    await fc.assert(
      fc.asyncProperty(malformed, async ({ body, contentType }) => {
        const { route, clicks, events } = harness();
        const response = await route(signed(body, contentType));
        expectWellFormed(response);
        expect(response.status).toBe(400);
        expect(response.body).toMatch(/JSON|payload/);
        expect(clicks).toEqual([]);
        expect(events).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });

  it('records a click once: its replay is refused, however its signature is re-encoded', async () => {
    await fc.assert(
      fc.asyncProperty(
        wellFormedClick,
        fc.array(fc.option(reEncoding, { nil: undefined }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 0, max: MAX_AGE_SECONDS }),
        async ({ contentType, body, payload }, replays, later) => {
          let now = NOW_MS;
          const { route, clicks } = harness({ now: () => now });
          const original = signed(body, contentType);
          expect((await route(original)).status).toBe(200);
          now += later * 1000;
          for (const how of replays) {
            const signature = String(original.headers['x-slack-signature']);
            const replay = request(body, {
              ...original.headers,
              'x-slack-signature': how === undefined ? signature : reEncode(signature, how),
            });
            expect((await route(replay)).status).toBe(401);
          }
          expect(clicks).toEqual([payload]);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('takes Slack’s retries of an event (same body, same signature), each handed on', async () => {
    await fc.assert(
      fc.asyncProperty(wellFormedEvent, fc.integer({ min: 2, max: 4 }), async (event, times) => {
        const { route, events } = harness();
        const delivery = signed(event.body, event.contentType);
        for (let attempt = 0; attempt < times; attempt++) expect((await route(delivery)).status).toBe(200);
        expect(events).toEqual(Array.from({ length: times }, () => event.payload));
      }),
      { numRuns: 50 },
    );
  });

  it('does not let a click handler that fails escape as an unhandled rejection', async () => {
    const escaped: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      escaped.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      await fc.assert(
        fc.asyncProperty(wellFormedClick, async ({ contentType, body }) => {
          let failed!: () => void;
          const handled = new Promise<void>((resolve) => {
            failed = resolve;
          });
          const { route, logs } = harness({
            handle: () => {
              failed();
              return Promise.reject(new Error('the API server is gone'));
            },
          });
          expect((await route(signed(body, contentType))).status).toBe(200);
          await handled;
          // Rejections are reported once the microtasks run out: let them run out.
          await new Promise((resolve) => setImmediate(resolve));
          expect(escaped).toEqual([]);
          expect(logs.join('\n')).toContain('the API server is gone');
        }),
        { numRuns: 30 },
      );
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
