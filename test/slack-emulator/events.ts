import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { nowSeconds, signedRequest } from './interactions.ts';
import type { JsonObject } from './json.ts';
import type { MessageMetadata, PostedMessage } from './messages.ts';
import { ENVELOPE_TYPES, type Envelope, type SocketAck } from './socket-mode.ts';
import { authorFields } from './wire.ts';
import { IDENTITY } from './workspace.ts';

/**
 * The Events API side of the emulator: Slack tells the app about messages in the channels its bot is
 * in (`message.channels`), over HTTP (a signed POST to the app's Request URL, retried when the app
 * does not answer 2xx within three seconds) or over Socket Mode (`events_api` envelopes, retried when
 * not acked).
 */

/** How Slack reaches the app: its Request URL, or the Socket Mode connection it opened. */
export type EventSubscription =
  { readonly via: 'http'; readonly requestUrl: string } | { readonly via: 'socket' };

/** Slack's deadline for an app to answer an event (HTTP) or ack it (Socket Mode). */
export const EVENT_DEADLINE_MS = 3000;
/**
 * Slack retries an event three times: at once, after a minute and after five minutes. The emulator
 * keeps the count and the order and shortens the waits (option `eventRetryDelaysMs`).
 */
export const DEFAULT_EVENT_RETRY_DELAYS_MS: readonly number[] = [0, 1_000, 5_000];

/** Why Slack sends an event again (`X-Slack-Retry-Reason`, Socket Mode `retry_reason`). */
export type RetryReason = 'http_timeout' | 'http_error' | 'connection_failed' | 'timeout' | 'redelivered';

/** One attempt to deliver an event, as the emulator saw it. */
export interface EventDelivery {
  readonly eventId: string;
  /** `X-Slack-Retry-Num`: 0 for the first attempt. */
  readonly retryNum: number;
  readonly via: 'http' | 'socket';
  /** The app's HTTP status (0 when it did not answer in time or could not be reached). */
  readonly status?: number;
  /** Socket Mode: whether the envelope was acked in time. */
  readonly acked?: boolean;
  readonly ok: boolean;
  readonly ms: number;
  readonly at: Date;
}

/** Which metadata event types the app subscribed to (`metadata_subscriptions`); `*`: all. */
export type MetadataSubscriptions = readonly string[] | '*';

/**
 * Slack strips `event_payload` from the metadata of message events unless the app subscribed to the
 * event type in its manifest (`metadata_subscriptions`): the event type alone comes through.
 */
function metadataFields(
  metadata: MessageMetadata | undefined,
  subscriptions: MetadataSubscriptions,
): JsonObject {
  if (metadata === undefined) return {};
  const subscribed = subscriptions === '*' || subscriptions.includes(metadata.event_type);
  return {
    metadata: subscribed
      ? { event_type: metadata.event_type, event_payload: metadata.event_payload }
      : { event_type: metadata.event_type },
  };
}

/** The inner `message` event of a new message, as Slack sends it to the app. */
export function messageEvent(message: PostedMessage, subscriptions: MetadataSubscriptions): JsonObject {
  return {
    type: 'message',
    channel: message.channel,
    ...authorFields(message.author),
    text: message.text,
    ...(message.blocks === undefined ? {} : { blocks: message.blocks }),
    ...metadataFields(message.metadata, subscriptions),
    ts: message.ts,
    ...(message.threadTs === undefined ? {} : { thread_ts: message.threadTs }),
    team: IDENTITY.teamId,
    event_ts: message.ts,
    channel_type: 'channel',
  };
}

/** `message` with subtype `message_changed`: an edit (chat.update), with the message before and after. */
export function messageChangedEvent(
  previous: PostedMessage,
  current: PostedMessage,
  subscriptions: MetadataSubscriptions,
  eventTs: string,
): JsonObject {
  const inner = (message: PostedMessage): JsonObject => ({
    type: 'message',
    ...authorFields(message.author),
    text: message.text,
    ...metadataFields(message.metadata, subscriptions),
    ts: message.ts,
    ...(message.threadTs === undefined ? {} : { thread_ts: message.threadTs }),
  });
  return {
    type: 'message',
    subtype: 'message_changed',
    hidden: true,
    channel: current.channel,
    message: { ...inner(current), edited: { user: current.author.user, ts: eventTs } },
    previous_message: inner(previous),
    event_ts: eventTs,
    ts: eventTs,
    channel_type: 'channel',
  };
}

/** The outer `event_callback` wrapper, the same over HTTP and Socket Mode. */
export function eventCallback(event: JsonObject, eventId: string, eventTime: number): JsonObject {
  return {
    token: 'emulator-verification-token',
    team_id: IDENTITY.teamId,
    context_team_id: IDENTITY.teamId,
    api_app_id: IDENTITY.appId,
    event,
    type: 'event_callback',
    event_id: eventId,
    event_time: eventTime,
    authorizations: [
      { team_id: IDENTITY.teamId, user_id: IDENTITY.botUserId, is_bot: true, is_enterprise_install: false },
    ],
    is_ext_shared_channel: false,
  };
}

/** A fresh event id, shaped like Slack's (`Ev` and ten characters). */
export function eventId(): string {
  return `Ev${randomBytes(5).toString('hex').toUpperCase()}`;
}

/** What an HTTP POST of an event to the app looks like, to send again (a replay) or forge. */
export interface EventRequest {
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

export function signedEvent(
  payload: JsonObject,
  signingSecret: string,
  options: { timestampSeconds?: number; retryNum?: number; retryReason?: RetryReason } = {},
): EventRequest {
  const body = JSON.stringify(payload);
  const retry = options.retryNum ?? 0;
  return {
    body,
    headers: {
      'Content-Type': 'application/json',
      'User-Agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      ...signedRequest(body, signingSecret, options.timestampSeconds ?? nowSeconds()),
      ...(retry > 0
        ? { 'X-Slack-Retry-Num': String(retry), 'X-Slack-Retry-Reason': options.retryReason ?? 'http_error' }
        : {}),
    },
  };
}

export interface EventResponse {
  /** 0 when the app did not answer within the deadline or could not be reached. */
  readonly status: number;
  readonly body: string;
  readonly ms: number;
  readonly timedOut: boolean;
  /** The app asked Slack not to retry (`X-Slack-No-Retry: 1`). */
  readonly noRetry: boolean;
}

/** POSTs an event to the app's Request URL and waits for its answer at most `deadlineMs`, like Slack. */
export async function deliverEventRequest(
  requestUrl: string,
  request: EventRequest,
  deadlineMs: number = EVENT_DEADLINE_MS,
): Promise<EventResponse> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  try {
    const response = await fetch(requestUrl, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(deadlineMs),
    });
    const body = await response.text();
    const noRetry = response.headers.get('x-slack-no-retry') === '1';
    return { status: response.status, body, ms: elapsed(), timedOut: false, noRetry };
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    return { status: 0, body: '', ms: elapsed(), timedOut, noRetry: false };
  }
}

/** Slack's `url_verification` handshake body: the app must answer with the challenge. */
export function urlVerification(challenge: string): JsonObject {
  return { token: 'emulator-verification-token', challenge, type: 'url_verification' };
}

/** Whether an answer to url_verification carries the challenge (as text, JSON or a form field). */
export function echoesChallenge(body: string, challenge: string): boolean {
  if (body.trim() === challenge) return true;
  try {
    const parsed = JSON.parse(body) as { challenge?: unknown };
    if (parsed.challenge === challenge) return true;
  } catch {
    // not JSON
  }
  return new URLSearchParams(body).get('challenge') === challenge;
}

export interface DispatcherOptions {
  readonly signingSecret: () => string;
  readonly retryDelaysMs: readonly number[];
  readonly sendEnvelope: (envelope: Envelope) => Promise<SocketAck>;
  readonly onChange: () => void;
  readonly signal: AbortSignal;
}

interface Pending {
  readonly payload: JsonObject;
  readonly eventId: string;
}

/**
 * Delivers events one at a time, in order, as Slack does for one app: each attempt recorded, retried
 * after the configured delays while the app fails, given up after the last retry. Deliveries can be
 * paused (events queue up) and resumed.
 */
export class EventDispatcher {
  readonly #options: DispatcherOptions;
  readonly #deliveries: EventDelivery[] = [];
  readonly #queue: Pending[] = [];
  readonly #sent = new Map<string, Pending>();
  #subscription: EventSubscription | undefined;
  #paused = false;
  #running = false;

  constructor(options: DispatcherOptions) {
    this.#options = options;
  }

  subscribe(subscription: EventSubscription | undefined): void {
    this.#subscription = subscription;
    this.#pump();
  }

  get subscription(): EventSubscription | undefined {
    return this.#subscription;
  }

  setPaused(paused: boolean): void {
    this.#paused = paused;
    this.#pump();
  }

  /** Queues an event for the subscribed app; nothing happens without a subscription. */
  enqueue(event: JsonObject): string | undefined {
    if (this.#subscription === undefined) return undefined;
    const id = eventId();
    const payload = eventCallback(event, id, nowSeconds());
    this.#queue.push({ payload, eventId: id });
    this.#pump();
    return id;
  }

  /** Sends a delivered event again, as a Slack retry would (`X-Slack-Retry-Num` one more than before). */
  async redeliver(id: string): Promise<EventDelivery> {
    const pending = this.#sent.get(id);
    if (pending === undefined) throw new Error(`no event ${id} was delivered`);
    const retryNum = this.deliveries(id).length;
    return this.#attempt(pending, retryNum, 'redelivered');
  }

  deliveries(id?: string): readonly EventDelivery[] {
    return this.#deliveries.filter((delivery) => id === undefined || delivery.eventId === id);
  }

  /** The event_callback payload of a delivered (or queued) event. */
  payload(id: string): JsonObject | undefined {
    return this.#sent.get(id)?.payload ?? this.#queue.find((pending) => pending.eventId === id)?.payload;
  }

  queued(): number {
    return this.#queue.length;
  }

  #pump(): void {
    if (this.#running || this.#paused || this.#subscription === undefined || this.#queue.length === 0) return;
    this.#running = true;
    void this.#drain().finally(() => {
      this.#running = false;
      if (!this.#options.signal.aborted) this.#pump();
    });
  }

  async #drain(): Promise<void> {
    while (!this.#paused && !this.#options.signal.aborted) {
      const next = this.#queue.shift();
      if (next === undefined) return;
      this.#sent.set(next.eventId, next);
      await this.#deliverWithRetries(next);
    }
  }

  async #deliverWithRetries(pending: Pending): Promise<void> {
    let reason: RetryReason = 'http_error';
    for (let retryNum = 0; retryNum <= this.#options.retryDelaysMs.length; retryNum++) {
      if (retryNum > 0) {
        const delay = this.#options.retryDelaysMs[retryNum - 1] ?? 0;
        try {
          await sleep(delay, undefined, { signal: this.#options.signal });
        } catch {
          return;
        }
      }
      const { delivery, noRetry } = await this.#send(pending, retryNum, reason);
      if (delivery.ok || noRetry || this.#options.signal.aborted) return;
      if (delivery.status === undefined || delivery.status === 0)
        reason = delivery.via === 'socket' ? 'timeout' : 'http_timeout';
      else reason = 'http_error';
    }
  }

  async #attempt(pending: Pending, retryNum: number, reason: RetryReason): Promise<EventDelivery> {
    return (await this.#send(pending, retryNum, reason)).delivery;
  }

  async #send(
    pending: Pending,
    retryNum: number,
    reason: RetryReason,
  ): Promise<{ delivery: EventDelivery; noRetry: boolean }> {
    const subscription = this.#subscription;
    if (subscription === undefined) throw new Error('no event subscription');
    const started = performance.now();
    let delivery: EventDelivery;
    let noRetry = false;
    if (subscription.via === 'http') {
      const request = signedEvent(pending.payload, this.#options.signingSecret(), {
        retryNum,
        retryReason: reason,
      });
      const response = await deliverEventRequest(subscription.requestUrl, request);
      noRetry = response.noRetry;
      delivery = {
        eventId: pending.eventId,
        retryNum,
        via: 'http',
        status: response.status,
        ok: response.status >= 200 && response.status < 300,
        ms: response.ms,
        at: new Date(),
      };
    } else {
      const acked = await this.#options
        .sendEnvelope({
          type: ENVELOPE_TYPES.eventsApi,
          payload: pending.payload,
          retryAttempt: retryNum,
          retryReason: retryNum > 0 ? reason : '',
        })
        .then(
          () => true,
          () => false,
        );
      delivery = {
        eventId: pending.eventId,
        retryNum,
        via: 'socket',
        acked,
        ok: acked,
        ms: Math.round(performance.now() - started),
        at: new Date(),
      };
    }
    this.#deliveries.push(delivery);
    this.#options.onChange();
    return { delivery, noRetry };
  }
}
