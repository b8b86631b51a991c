import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs, recordedArgs, stringArg, type Args } from './args.ts';
import { readBody } from './body.ts';
import { ChangeFeed } from './changes.ts';
import {
  DEFAULT_EVENT_RETRY_DELAYS_MS,
  deliverEventRequest,
  echoesChallenge,
  EventDispatcher,
  messageChangedEvent,
  messageEvent,
  signedEvent,
  urlVerification,
  type EventDelivery,
  type EventResponse,
  type EventSubscription,
  type MetadataSubscriptions,
  type RetryReason,
} from './events.ts';
import { FaultQueue, type Failure } from './faults.ts';
import {
  blockActionsPayload,
  deliverInteraction,
  nowSeconds,
  signedInteraction,
  type InteractionRequest,
  type InteractionResponse,
} from './interactions.ts';
import { isJsonObject, parseJson, type JsonObject } from './json.ts';
import { MessageStore, type EphemeralMessage, type PostedMessage, type Reaction } from './messages.ts';
import { ChannelRateLimiter, DEFAULT_RATE_LIMIT, type RateLimit } from './rate-limit.ts';
import {
  answerResponseUrl,
  RESPONSE_URL_MAX_USES,
  type ResponseAnswer,
  type ResponseTarget,
  type ResponseUrlPost,
} from './response-url.ts';
import {
  ACK_DEADLINE_MS,
  ENVELOPE_TYPES,
  SocketModeServer,
  type Envelope,
  type SocketAck,
  type SocketConnection,
} from './socket-mode.ts';
import { WebView, type PageClick, type PageClickAnswer } from './web/view.ts';
import { authenticate, callMethod, type Auth, type Caller, type Outcome } from './web-api.ts';
import {
  createWorkspace,
  findChannel,
  findUser,
  IDENTITY,
  type Workspace,
  type WorkspaceOptions,
} from './workspace.ts';

export interface SlackEmulatorOptions extends WorkspaceOptions {
  /** `chat.postMessage` per channel; default 1 message a second with bursts of 3. */
  readonly rateLimit?: RateLimit;
  /** How often the Socket Mode server pings clients; default 10 s, 0 turns pings off. */
  readonly socketPingIntervalMs?: number;
  /** Default 0: any free port on 127.0.0.1. */
  readonly port?: number;
  /**
   * The app's interactivity Request URL (Slack's app settings): where clicks on the web page go.
   * Without one, clicks go over Socket Mode to a connected client. Also `setInteractivityUrl`.
   */
  readonly interactivityUrl?: string;
  /**
   * The metadata event types the app subscribed to in its manifest (`metadata_subscriptions`): message
   * events carry the `event_payload` of those only. Default: Greenlight's, `greenlight_approval_requested`.
   */
  readonly metadataSubscriptions?: MetadataSubscriptions;
  /** The waits before Slack's three retries of an event the app failed (default 0, 1 s, 5 s). */
  readonly eventRetryDelaysMs?: readonly number[];
}

/** The outcome of Slack's url_verification handshake with an app's Request URL. */
export interface UrlVerification {
  readonly verified: boolean;
  readonly status: number;
  readonly body: string;
}

/** Options for an event POSTed by hand: forged (another secret), stale (an old timestamp), a retry. */
export interface SendEventOptions {
  readonly signingSecret?: string;
  readonly timestampSeconds?: number;
  readonly retryNum?: number;
  readonly retryReason?: RetryReason;
}

/** One Web API call as the emulator saw it. The token is never kept, only what it was. */
export interface ApiCall {
  readonly seq: number;
  readonly method: string;
  /** Parsed arguments; `blocks`, `attachments` and `metadata` decoded from their JSON text; no `token`. */
  readonly args: Args;
  readonly auth: Auth;
  readonly at: Date;
  /** The HTTP status answered, or how the call ended without an answer. */
  readonly status: number | 'timeout' | 'reset';
  readonly ok: boolean;
  /** Slack's error code (`invalid_auth`, `ratelimited`, `channel_not_found`, …). */
  readonly error?: string;
  readonly retryAfterSeconds?: number;
}

/** A click on a button of a message; the emulator fills in the rest of the payload. */
export interface BlockActionsOptions {
  /** The clicking user's id (an unknown id is sent as is, for negative tests). */
  readonly user: string;
  readonly actionId: string;
  readonly value: string;
  /** Channel id or `#name`. */
  readonly channel: string;
  readonly messageTs: string;
  readonly blockId?: string;
  /** Default: a fresh `response_url` of this emulator, usable five times. */
  readonly responseUrl?: string;
}

export interface HttpClickOptions extends BlockActionsOptions {
  readonly via: 'http';
  /** The app's interactivity request URL. */
  readonly requestUrl: string;
  /** Signs with this secret instead of the workspace's (a forged signature). */
  readonly signingSecret?: string;
  /** Unix seconds of `X-Slack-Request-Timestamp`; default now (older: a stale or replayed request). */
  readonly timestamp?: number;
  /** How long Slack waits for the app's answer; default 3 s. */
  readonly deadlineMs?: number;
}

export interface SocketClickOptions extends BlockActionsOptions {
  readonly via: 'socket';
  /** How long to wait for the ack; default 3 s. */
  readonly timeoutMs?: number;
}

export type ClickOptions = HttpClickOptions | SocketClickOptions;

export type HttpClickResult = InteractionResponse & {
  readonly via: 'http';
  readonly payload: JsonObject;
  /** The exact request sent, to send again (a replay) with `deliverInteraction`. */
  readonly request: InteractionRequest;
};

export interface SocketClickResult {
  readonly via: 'socket';
  readonly payload: JsonObject;
  readonly ack: SocketAck;
  readonly ms: number;
}

export type ClickResult = HttpClickResult | SocketClickResult;

const DEFAULT_WAIT_MS = 5000;
const DEFAULT_SOCKET_PING_MS = 10_000;
const FAILURE_RETRY_AFTER_SECONDS = 1;
const MAX_BODY_BYTES = 1024 * 1024;

interface Answer {
  readonly status: number;
  readonly body: JsonObject;
  readonly headers?: Readonly<Record<string, string>>;
}

function platformError(error: string): Answer {
  return { status: 200, body: { ok: false, error } };
}

function ratelimitedAnswer(retryAfterSeconds: number): Answer {
  return {
    status: 429,
    body: { ok: false, error: 'ratelimited' },
    headers: { 'Retry-After': String(retryAfterSeconds) },
  };
}

function answerOutcome(outcome: Outcome): Answer {
  switch (outcome.kind) {
    case 'ok':
      return { status: 200, body: outcome.body };
    case 'error':
      return platformError(outcome.error);
    case 'ratelimited':
      return ratelimitedAnswer(outcome.retryAfterSeconds);
  }
}

function writeJson(response: ServerResponse, answer: Answer): void {
  const text = JSON.stringify(answer.body);
  response.writeHead(answer.status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ...answer.headers,
  });
  response.end(text);
}

function errorOf(answer: Answer): string | undefined {
  const error = answer.body['error'];
  return typeof error === 'string' ? error : undefined;
}

/** The answer a scripted failure gives, or `undefined` for failures that give none. */
function failureAnswer(failure: Failure): Answer | undefined {
  if (typeof failure === 'object') {
    return 'error' in failure ? platformError(failure.error) : ratelimitedAnswer(failure.ratelimited);
  }
  switch (failure) {
    case 'ratelimited':
      return ratelimitedAnswer(FAILURE_RETRY_AFTER_SECONDS);
    case 'http500':
      return { status: 500, body: { ok: false, error: 'internal_error' } };
    case 'timeout':
    case 'lost-answer':
    case 'reset':
      return undefined;
  }
}

/** A local Slack: Web API, Socket Mode and interactivity, for tests and `greenlight demo`. */
export class SlackEmulator {
  readonly workspace: Workspace;
  readonly #server: Server;
  readonly #socketMode: SocketModeServer;
  readonly #store = new MessageStore((change) => {
    this.#web.changed(change);
  });
  readonly #web: WebView;
  readonly #limiter: ChannelRateLimiter;
  readonly #faults = new FaultQueue();
  readonly #changes = new ChangeFeed();
  readonly #calls: ApiCall[] = [];
  readonly #held = new Set<ServerResponse>();
  readonly #outsiders: Set<string>;
  readonly #responseTargets = new Map<string, IssuedResponseUrl>();
  readonly #responsePosts: ResponseUrlPost[] = [];
  readonly #closing = new AbortController();
  #interactivityUrl: string | undefined;
  readonly #events: EventDispatcher;
  readonly #metadataSubscriptions: MetadataSubscriptions;
  /** `channel ts` → the id of the event that announced the message. */
  readonly #eventOfMessage = new Map<string, string>();
  #outage = false;
  #latencyMs = 0;
  #port = 0;
  #closed: Promise<void> | undefined;

  constructor(options: SlackEmulatorOptions = {}) {
    this.workspace = createWorkspace(options);
    this.#interactivityUrl = options.interactivityUrl;
    this.#web = new WebView({
      workspace: this.workspace,
      messages: (channel) => this.#store.messages(channel),
      message: (channel, ts) => this.#store.find(channel, ts),
      ephemerals: () => this.#store.ephemerals(),
      deliverClick: (click) => this.#pageClick(click),
    });
    this.#limiter = new ChannelRateLimiter(options.rateLimit ?? DEFAULT_RATE_LIMIT);
    this.#outsiders = new Set(
      this.workspace.channels.filter((channel) => channel.botIsMember === false).map((channel) => channel.id),
    );
    this.#socketMode = new SocketModeServer({
      appId: IDENTITY.appId,
      pingIntervalMs: options.socketPingIntervalMs ?? DEFAULT_SOCKET_PING_MS,
      onChange: () => {
        this.#changes.notify();
      },
    });
    this.#metadataSubscriptions = options.metadataSubscriptions ?? ['greenlight_approval_requested'];
    this.#events = new EventDispatcher({
      signingSecret: () => this.workspace.signingSecret,
      retryDelaysMs: options.eventRetryDelaysMs ?? DEFAULT_EVENT_RETRY_DELAYS_MS,
      sendEnvelope: (envelope) => this.#socketMode.send(envelope),
      onChange: () => {
        this.#changes.notify();
      },
      signal: this.#closing.signal,
    });
    this.#server = createServer((request, response) => {
      this.#route(request, response).catch((error: unknown) => {
        this.#fail(response, error);
      });
    });
    this.#server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.#upgrade(request, socket, head);
    });
  }

  /** Listens on 127.0.0.1; use `startSlackEmulator` instead. */
  async listen(port = 0): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#port = (this.#server.address() as AddressInfo).port;
  }

  /** `http://127.0.0.1:PORT/` */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.#port}/`;
  }

  /** `http://127.0.0.1:PORT/api/`: WebClient's `slackApiUrl`, Greenlight's `SLACK_API_URL`. */
  get apiUrl(): string {
    return `${this.baseUrl}api/`;
  }

  /** The web page that shows the workspace as Slack would, live (`http://127.0.0.1:PORT/`). */
  get webUrl(): string {
    return this.baseUrl;
  }

  /** Sets the app's interactivity Request URL, where the web page's clicks go (`undefined`: Socket Mode). */
  setInteractivityUrl(url: string | undefined): void {
    this.#interactivityUrl = url;
  }

  close(): Promise<void> {
    this.#closed ??= this.#shutDown();
    return this.#closed;
  }

  // Failure switches

  /** Fails the next `times` calls of `method` (`'*'`: any method) with `failure`. */
  failNext(method: string, failure: Failure, times = 1): void {
    this.#faults.add(method, failure, times);
  }

  /** While on, every Web API call answers HTTP 503: Slack is down. */
  setOutage(on: boolean): void {
    this.#outage = on;
  }

  /** Delays every Web API answer by `ms`. */
  setLatency(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`latency must be >= 0 ms, got ${ms}`);
    this.#latencyMs = ms;
  }

  /** Invites the bot to a channel or removes it (`not_in_channel`). */
  setBotMembership(channel: string, member: boolean): void {
    const id = this.#channelId(channel);
    if (member) this.#outsiders.delete(id);
    else this.#outsiders.add(id);
  }

  /** Clears queued failures, outage, latency and rate-limit buckets; requests held by `'timeout'` are cut. */
  resetFaults(): void {
    this.#faults.clear();
    this.#outage = false;
    this.#latencyMs = 0;
    this.#limiter.resetBuckets();
    this.#cutHeldRequests();
  }

  // Observation

  messages(channel?: string): readonly PostedMessage[] {
    return this.#store.messages(this.#optionalChannelId(channel));
  }

  /** One message by channel and ts (deleted messages excluded). */
  message(channel: string, ts: string): PostedMessage | undefined {
    return this.#store.find(this.#channelId(channel), ts);
  }

  ephemerals(channel?: string): readonly EphemeralMessage[] {
    return this.#store.ephemerals(this.#optionalChannelId(channel));
  }

  calls(method?: string): readonly ApiCall[] {
    return this.#calls
      .filter((call) => method === undefined || call.method === method)
      .map((call) => structuredClone(call));
  }

  /** How many HTTP 429s the emulator answered for a channel (or for all channels). */
  rateLimited(channel?: string): number {
    return this.#limiter.rejections(this.#optionalChannelId(channel));
  }

  responseUrlPosts(): readonly ResponseUrlPost[] {
    return structuredClone(this.#responsePosts);
  }

  /**
   * Resolves with `check()`'s first truthy value, re-checking after every change in the emulator (no
   * polling); rejects after `timeoutMs`.
   */
  waitFor<T>(check: () => T, timeoutMs = DEFAULT_WAIT_MS, description?: string): Promise<NonNullable<T>> {
    return this.#changes.waitFor(check, timeoutMs, description);
  }

  /** The reactions on a message, in the order first added. */
  reactions(channel: string, ts: string): readonly Reaction[] {
    return this.message(channel, ts)?.reactions ?? [];
  }

  // Events API

  /**
   * Subscribes the app to events (`message.channels`): over HTTP, Slack first checks the Request URL
   * with a signed `url_verification` and subscribes only when the app echoes the challenge; over
   * Socket Mode, events go to the newest connection.
   */
  async subscribeEvents(subscription: EventSubscription): Promise<UrlVerification> {
    if (subscription.via === 'socket') {
      this.#events.subscribe(subscription);
      return { verified: true, status: 0, body: '' };
    }
    const verification = await this.verifyRequestUrl(subscription.requestUrl);
    if (verification.verified) this.#events.subscribe(subscription);
    return verification;
  }

  /** Slack's url_verification handshake with an app's Request URL, on its own. */
  async verifyRequestUrl(requestUrl: string): Promise<UrlVerification> {
    const challenge = randomUUID().replaceAll('-', '');
    const request = signedEvent(urlVerification(challenge), this.workspace.signingSecret);
    const response = await deliverEventRequest(requestUrl, request);
    return {
      verified: response.status === 200 && echoesChallenge(response.body, challenge),
      status: response.status,
      body: response.body,
    };
  }

  unsubscribeEvents(): void {
    this.#events.subscribe(undefined);
  }

  /** While paused, events wait in a queue (Slack is slow to deliver); resuming delivers them in order. */
  setEventDeliveryPaused(paused: boolean): void {
    this.#events.setPaused(paused);
  }

  /** Every attempt to deliver an event (or those of one event), retries included. */
  eventDeliveries(eventId?: string): readonly EventDelivery[] {
    return this.#events.deliveries(eventId);
  }

  /** The id of the event that told the app about a message, once one was queued. */
  eventIdOf(channel: string, ts: string): string | undefined {
    return this.#eventOfMessage.get(`${this.#channelId(channel)} ${ts}`);
  }

  /** The event_callback payload of an event. */
  eventPayload(eventId: string): JsonObject | undefined {
    return this.#events.payload(eventId);
  }

  /** Delivers an event again, as a Slack retry (`X-Slack-Retry-Num` one more than the last attempt). */
  redeliverEvent(eventId: string): Promise<EventDelivery> {
    return this.#events.redeliver(eventId);
  }

  /** POSTs an event payload to the subscribed Request URL by hand: to forge, age or replay one. */
  async sendEvent(payload: JsonObject, options: SendEventOptions = {}): Promise<EventResponse> {
    const subscription = this.#events.subscription;
    if (subscription?.via !== 'http') throw new Error('no HTTP event subscription');
    const request = signedEvent(payload, options.signingSecret ?? this.workspace.signingSecret, {
      ...(options.timestampSeconds === undefined ? {} : { timestampSeconds: options.timestampSeconds }),
      ...(options.retryNum === undefined ? {} : { retryNum: options.retryNum }),
      ...(options.retryReason === undefined ? {} : { retryReason: options.retryReason }),
    });
    return deliverEventRequest(subscription.requestUrl, request);
  }

  #announce(message: PostedMessage): void {
    if (this.#outsiders.has(message.channel)) return; // the bot only hears channels it is in
    const id = this.#events.enqueue(messageEvent(message, this.#metadataSubscriptions));
    if (id !== undefined) this.#eventOfMessage.set(`${message.channel} ${message.ts}`, id);
  }

  #announceEdit(previous: PostedMessage, current: PostedMessage): void {
    if (this.#outsiders.has(current.channel)) return;
    const eventTs = this.#store.nextTs(Date.now());
    this.#events.enqueue(messageChangedEvent(previous, current, this.#metadataSubscriptions, eventTs));
  }

  // Socket Mode

  connectedClients(): number {
    return this.#socketMode.connectedClients();
  }

  socketConnections(): readonly SocketConnection[] {
    return this.#socketMode.connections();
  }

  socketAcks(): readonly SocketAck[] {
    return this.#socketMode.acks();
  }

  /** Sends an `interactive` envelope to the newest client; resolves with its ack, rejects after 3 s. */
  sendInteractive(payload: JsonObject, timeoutMs = ACK_DEADLINE_MS): Promise<SocketAck> {
    return this.sendEnvelope({ type: ENVELOPE_TYPES.interactive, payload }, timeoutMs);
  }

  sendEnvelope(envelope: Envelope, timeoutMs = ACK_DEADLINE_MS): Promise<SocketAck> {
    return this.#socketMode.send(envelope, timeoutMs);
  }

  /** Sends `{type: "disconnect", reason: "refresh_requested"}` to every client. */
  requestRefresh(): void {
    this.#socketMode.requestRefresh();
  }

  /** Terminates every Socket Mode connection without a close handshake. */
  dropSocketConnections(): void {
    this.#socketMode.dropConnections();
  }

  // Interactivity

  /** A `block_actions` payload for a click on a message, with a working `response_url`. */
  blockActionsPayload(options: BlockActionsOptions): JsonObject {
    const user = findUser(this.workspace, options.user) ?? { id: options.user, name: options.user };
    const channel = findChannel(this.workspace, options.channel) ?? {
      id: options.channel,
      name: options.channel,
    };
    const message = this.#store.find(channel.id, options.messageTs);
    return blockActionsPayload({
      user,
      channel,
      actionId: options.actionId,
      value: options.value,
      message: {
        ts: options.messageTs,
        text: message?.text ?? '',
        ...(message?.blocks === undefined ? {} : { blocks: message.blocks }),
      },
      responseUrl:
        options.responseUrl ??
        this.#issueResponseUrl({ channel: channel.id, messageTs: options.messageTs, user: user.id }),
      ...(options.blockId === undefined ? {} : { blockId: options.blockId }),
    });
  }

  /** Delivers a button click as Slack does: a signed HTTP POST to the app, or a Socket Mode envelope. */
  async click(options: ClickOptions): Promise<ClickResult> {
    const payload = this.blockActionsPayload(options);
    if (options.via === 'socket') {
      const started = performance.now();
      const ack = await this.sendInteractive(payload, options.timeoutMs);
      return { via: 'socket', payload, ack, ms: Math.round(performance.now() - started) };
    }
    const secret = options.signingSecret ?? this.workspace.signingSecret;
    const request = signedInteraction(payload, secret, options.timestamp ?? nowSeconds());
    const response = await deliverInteraction(options.requestUrl, request, options.deadlineMs);
    return { via: 'http', payload, request, ...response };
  }

  /** A click on the web page: over HTTP to the Request URL when there is one, else over Socket Mode. */
  async #pageClick(click: PageClick): Promise<PageClickAnswer> {
    const options = {
      user: click.user,
      actionId: click.actionId,
      value: click.value,
      channel: click.channel,
      messageTs: click.ts,
      ...(click.blockId === '' ? {} : { blockId: click.blockId }),
    };
    if (this.#interactivityUrl !== undefined) {
      const result = await this.click({ via: 'http', requestUrl: this.#interactivityUrl, ...options });
      if (result.via !== 'http' || result.timedOut)
        return { ok: false, error: 'the app did not answer in time' };
      return result.status === 200
        ? { ok: true, status: result.status }
        : { ok: false, error: `the app answered HTTP ${result.status}`, status: result.status };
    }
    if (this.connectedClients() === 0) {
      return { ok: false, error: 'the app has no Request URL and no Socket Mode connection' };
    }
    await this.click({ via: 'socket', ...options });
    return { ok: true };
  }

  // HTTP

  async #route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.baseUrl);
    if (this.#web.handles(url.pathname)) {
      await this.#web.handle(request, response, url, this.#port);
      return;
    }
    const [, area, name] = url.pathname.split('/');
    if (area === 'api' && name !== undefined && name !== '') {
      await this.#webApi(name, url.searchParams, request, response);
      return;
    }
    if (area === 'response' && name !== undefined && request.method === 'POST') {
      await this.#responseUrl(name, request, response);
      return;
    }
    writeJson(response, { status: 404, body: { ok: false, error: 'not_found' } });
  }

  async #webApi(
    method: string,
    query: URLSearchParams,
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<void> {
    const body = await readBody(request, MAX_BODY_BYTES);
    const parsed = body === undefined ? undefined : parseArgs(query, request.headers['content-type'], body);
    const args = parsed?.ok === true ? parsed.args : {};
    const caller = authenticate(request.headers.authorization, stringArg(args, 'token'), this.workspace);
    const call = { method, args: recordedArgs(args), auth: caller.auth };
    if (this.#outage) {
      this.#answer(response, call, { status: 503, body: { ok: false, error: 'service_unavailable' } });
      return;
    }
    if (this.#latencyMs > 0) await sleep(this.#latencyMs, undefined, { signal: this.#closing.signal });
    const failure = this.#faults.take(method);
    if (failure === 'lost-answer' && parsed?.ok === true) this.#call(method, args, caller);
    if (failure !== undefined) {
      this.#injure(response, call, failure);
      return;
    }
    if (parsed?.ok !== true) {
      this.#answer(response, call, platformError(parsed?.error ?? 'request_too_large'));
      return;
    }
    this.#answer(response, call, answerOutcome(this.#call(method, args, caller)));
  }

  #call(method: string, args: Args, caller: Caller): Outcome {
    const outcome = callMethod(method, args, caller.auth, {
      workspace: this.workspace,
      store: this.#store,
      limiter: this.#limiter,
      botIsMember: (channel) => !this.#outsiders.has(channel),
      openSocketUrl: () => this.#socketUrl(),
      nowMs: Date.now(),
      author: caller.author,
      events: {
        posted: (message) => {
          this.#announce(message);
        },
        changed: (previous, current) => {
          this.#announceEdit(previous, current);
        },
      },
    });
    if (outcome.kind === 'ratelimited' && outcome.channel !== undefined) {
      this.#limiter.countRejection(outcome.channel);
    }
    return outcome;
  }

  #injure(response: ServerResponse, call: PendingCall, failure: Failure): void {
    const answer = failureAnswer(failure);
    if (answer !== undefined) {
      this.#countScriptedRateLimit(call, answer);
      this.#answer(response, call, answer);
      return;
    }
    if (failure === 'timeout' || failure === 'lost-answer') {
      this.#held.add(response);
      response.once('close', () => this.#held.delete(response));
      this.#record(call, { status: 'timeout', ok: false });
      return;
    }
    response.socket?.destroy();
    this.#record(call, { status: 'reset', ok: false });
  }

  #countScriptedRateLimit(call: PendingCall, answer: Answer): void {
    const channel = stringArg(call.args, 'channel');
    if (answer.status === 429 && channel !== undefined)
      this.#limiter.countRejection(this.#channelId(channel));
  }

  #answer(response: ServerResponse, call: PendingCall, answer: Answer): void {
    writeJson(response, answer);
    const error = errorOf(answer);
    const retryAfter = answer.headers?.['Retry-After'];
    this.#record(call, {
      status: answer.status,
      ok: answer.status === 200 && error === undefined,
      ...(error === undefined ? {} : { error }),
      ...(retryAfter === undefined ? {} : { retryAfterSeconds: Number(retryAfter) }),
    });
  }

  #record(call: PendingCall, result: CallResult): void {
    this.#calls.push({ seq: this.#calls.length + 1, at: new Date(), ...call, ...result });
    this.#changes.notify();
  }

  async #responseUrl(id: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const issued = this.#responseTargets.get(id);
    const text = await readBody(request, MAX_BODY_BYTES);
    const body = text === undefined ? undefined : parseJson(text);
    if (issued === undefined) {
      writeJson(response, { status: 404, body: { ok: false, error: 'no_such_response_url' } });
      return;
    }
    const answer = this.#answerResponse(issued, isJsonObject(body) ? body : undefined);
    writeJson(response, {
      status: answer.status,
      body: answer.error === undefined ? { ok: true } : { ok: false, error: answer.error },
    });
    this.#responsePosts.push({
      target: issued.target,
      body: isJsonObject(body) ? body : {},
      ...answer,
      at: new Date(),
    });
    this.#changes.notify();
  }

  #answerResponse(issued: IssuedResponseUrl, body: JsonObject | undefined): ResponseAnswer {
    if (body === undefined) return { status: 400, error: 'invalid_payload' };
    issued.uses += 1;
    if (issued.uses > RESPONSE_URL_MAX_USES) return { status: 404, error: 'used_url' };
    return answerResponseUrl(body, issued.target, this.#store);
  }

  #issueResponseUrl(target: ResponseTarget): string {
    const id = randomUUID();
    this.#responseTargets.set(id, { target, uses: 0 });
    return `${this.baseUrl}response/${id}`;
  }

  #socketUrl(): string {
    return `ws://127.0.0.1:${this.#port}/link/?ticket=${this.#socketMode.issueTicket()}&app_id=${IDENTITY.appId}`;
  }

  #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = new URL(request.url ?? '/', this.baseUrl).pathname;
    if (path === '/link/' || path === '/link') {
      this.#socketMode.handleUpgrade(request, socket, head);
      return;
    }
    socket.destroy();
  }

  /** The id of a channel given by id or `#name`; unknown references stay as they are. */
  #channelId(channel: string): string {
    return findChannel(this.workspace, channel)?.id ?? channel;
  }

  #optionalChannelId(channel: string | undefined): string | undefined {
    return channel === undefined ? undefined : this.#channelId(channel);
  }

  #fail(response: ServerResponse, error: unknown): void {
    if (this.#closing.signal.aborted || response.headersSent) {
      response.destroy();
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    writeJson(response, { status: 500, body: { ok: false, error: 'emulator_error', detail: message } });
  }

  #cutHeldRequests(): void {
    for (const response of this.#held) response.socket?.destroy();
    this.#held.clear();
  }

  async #shutDown(): Promise<void> {
    this.#closing.abort();
    this.#web.close();
    this.#changes.cancelAll(new Error('slack emulator closed'));
    this.#socketMode.close();
    this.#cutHeldRequests();
    const closed = new Promise<void>((resolve) => {
      this.#server.close(() => {
        resolve();
      });
    });
    this.#server.closeAllConnections();
    await closed;
  }
}

type PendingCall = Pick<ApiCall, 'method' | 'args' | 'auth'>;
interface IssuedResponseUrl {
  readonly target: ResponseTarget;
  uses: number;
}
type CallResult = Pick<ApiCall, 'status' | 'ok' | 'error' | 'retryAfterSeconds'>;

/** Starts an emulator on a free 127.0.0.1 port. */
export async function startSlackEmulator(options: SlackEmulatorOptions = {}): Promise<SlackEmulator> {
  const emulator = new SlackEmulator(options);
  await emulator.listen(options.port ?? 0);
  return emulator;
}
