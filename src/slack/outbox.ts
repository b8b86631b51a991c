import { createHash } from 'node:crypto';
import type { ApprovalRequest } from '../api/v1alpha1/approval-request.ts';
import type { Logger } from '../observability/logger.ts';
import { backoffDelay } from '../runtime/backoff.ts';
import { DECIDED_EVENT, REFUSED_EVENT } from './intake.ts';
import {
  announcement,
  decidedPayload,
  digest,
  escalationMessage,
  intakeReply,
  progressReply,
  type SlackMessage,
} from './messages.ts';
import { intakeReplyKey, refusalKey, trackingKey, type SlackIntent } from './plan.ts';
import { SlackCallError, type Metadata, type SlackFailure, type SlackWeb } from './web.ts';

/** Greenlight's messages carry `{event_type: greenlight, event_payload: {keys}}`: how it finds them again. */
export const METADATA_EVENT = 'greenlight';
/** At least this long between two messages in one channel (Slack allows about one per second). */
export const DEFAULT_PACE_MS = 1_100;
/** From this many queued announcements on, a channel gets one digest instead. */
export const DIGEST_FROM = 5;
const DIGEST_MAX = 50;
/** How far back a channel's history is read to find messages posted before a crash. */
const SCAN_MESSAGES = 1_000;
const RETRY = { baseMs: 1_000, maxMs: 60_000, jitter: 0.2 } as const;

export interface OutboxDeps {
  readonly web: SlackWeb;
  /** The current request by uid; undefined once deleted or forgotten. */
  readonly request: (uid: string) => ApprovalRequest | undefined;
  /** Records the tracking message in status.slack (the source of truth). */
  readonly recordTracking: (request: ApprovalRequest, channel: string, ts: string) => Promise<void>;
  /** A failure retrying cannot fix, reported on the request (an event) and in logs. */
  readonly onTerminal: (request: ApprovalRequest | undefined, failure: SlackFailure, channel: string) => void;
  readonly onDepth: (depth: number) => void;
  readonly logger: Logger;
  readonly paceMs?: number;
}

interface Tracked {
  readonly channel: string;
  readonly ts: string;
  /** What the message shows now (a hash), to update it only when that changes. */
  readonly shown?: string;
}

interface Item {
  readonly intent: SlackIntent;
  attempts: number;
  notBefore: number;
  /** A previous attempt may have posted it: look in the channel before posting again. */
  uncertain: boolean;
}

interface Channel {
  readonly name: string;
  readonly queue: Item[];
  /** How many queued items have each key (a copy may be queued again before the original leaves). */
  readonly queuedKeys: Map<string, number>;
  pausedUntil: number;
  lastSentAt: number;
  scanned: boolean;
  running: boolean;
}

/**
 * Slack work, driven by Kubernetes status and done at Slack's pace: one queue per channel (about one
 * message a second, Retry-After honoured for that channel only, retries with backoff), each intent
 * done once — across restarts too, thanks to the keys stored in message metadata — and bursts of
 * announcements folded into digests.
 */
export class SlackOutbox {
  readonly #deps: OutboxDeps;
  readonly #channels = new Map<string, Channel>();
  readonly #done = new Set<string>();
  /** uid → the tracking message and a hash of what it shows. */
  readonly #tracking = new Map<string, Tracked>();
  /** Single announcements by key, to update the "Escalated" one once the request is decided. */
  readonly #announced = new Map<string, { channel: string; ts: string }>();
  readonly #stop = new AbortController();
  /** uid → how many items are queued for it, over all channels. */
  readonly #queuedByUid = new Map<string, number>();
  /** Threads read for Greenlight's replies (`channel ts` → the uid they belong to), once per process. */
  readonly #scannedThreads = new Map<string, string>();

  constructor(deps: OutboxDeps) {
    this.#deps = deps;
  }

  submit(intents: readonly SlackIntent[]): void {
    for (const intent of intents) {
      if (this.#stop.signal.aborted || !this.#needed(intent)) continue;
      const channel = this.#channel(intent.channel);
      if (channel.queuedKeys.has(intent.key)) continue;
      this.#enqueue(channel, { intent, attempts: 0, notBefore: 0, uncertain: false });
      this.#start(channel);
    }
    this.#reportDepth();
  }

  /** Whether anything is still queued for this request. */
  pending(uid: string): boolean {
    return this.#queuedByUid.has(uid);
  }

  // Every queue change goes through these two, so that the lookups above stay O(1): a burst queues
  // thousands of announcements, and a scan per submit made it quadratic (docs/benchmarks.md, F9).
  #enqueue(channel: Channel, item: Item): void {
    channel.queue.push(item);
    increment(channel.queuedKeys, item.intent.key);
    increment(this.#queuedByUid, item.intent.uid);
  }

  #dequeue(channel: Channel, item: Item): void {
    const index = channel.queue.indexOf(item);
    if (index < 0) return;
    channel.queue.splice(index, 1);
    decrement(channel.queuedKeys, item.intent.key);
    decrement(this.#queuedByUid, item.intent.uid);
  }

  /**
   * Drops what is remembered of finished requests (done keys, tracking and announcement messages),
   * so that a long-running controller does not grow with every request it ever announced.
   */
  forget(uids: ReadonlySet<string>): void {
    if (uids.size === 0) return;
    const uidOf = (key: string): string => key.slice(0, key.indexOf('/'));
    for (const key of this.#done) if (uids.has(uidOf(key))) this.#done.delete(key);
    for (const key of this.#announced.keys()) if (uids.has(uidOf(key))) this.#announced.delete(key);
    for (const uid of uids) this.#tracking.delete(uid);
    for (const [thread, uid] of this.#scannedThreads) if (uids.has(uid)) this.#scannedThreads.delete(thread);
  }

  depth(): number {
    let depth = 0;
    for (const channel of this.#channels.values()) depth += channel.queue.length;
    return depth;
  }

  stop(): void {
    this.#stop.abort();
  }

  #stopped(): boolean {
    return this.#stop.signal.aborted;
  }

  #needed(intent: SlackIntent): boolean {
    if (intent.kind !== 'tracking') return !this.#done.has(intent.key);
    const request = this.#deps.request(intent.uid);
    if (!request) return false;
    return this.#tracking.get(intent.uid)?.shown !== fingerprint(escalationMessage(request));
  }

  #channel(name: string): Channel {
    let channel = this.#channels.get(name);
    if (!channel) {
      channel = {
        name,
        queue: [],
        queuedKeys: new Map(),
        pausedUntil: 0,
        lastSentAt: 0,
        scanned: false,
        running: false,
      };
      this.#channels.set(name, channel);
    }
    return channel;
  }

  #start(channel: Channel): void {
    if (channel.running) return;
    channel.running = true;
    void this.#drain(channel).finally(() => {
      channel.running = false;
      if (channel.queue.length > 0 && !this.#stop.signal.aborted) this.#start(channel);
    });
  }

  async #drain(channel: Channel): Promise<void> {
    while (channel.queue.length > 0 && !this.#stop.signal.aborted) {
      const [head] = channel.queue;
      if (!head) return;
      const wait =
        Math.max(
          channel.pausedUntil,
          channel.lastSentAt + (this.#deps.paceMs ?? DEFAULT_PACE_MS),
          head.notBefore,
        ) - Date.now();
      if (wait > 0) await sleep(wait, this.#stop.signal);
      if (this.#stopped()) return;
      try {
        if (!channel.scanned) await this.#scan(channel);
        const sent = await this.#perform(channel, head);
        this.#dequeue(channel, head);
        if (sent) channel.lastSentAt = Date.now();
      } catch (error) {
        this.#failed(channel, head, error);
      }
      this.#reportDepth();
    }
  }

  /** Once per channel: finds what an earlier run posted but may not have recorded. */
  async #scan(channel: Channel): Promise<void> {
    const id = await this.#readable(channel, () => this.#deps.web.channelId(channel.name));
    if (id) await this.#readable(channel, () => this.#learn(id, SCAN_MESSAGES));
    channel.scanned = true;
  }

  /**
   * Reading a channel is how duplicates are ruled out, but a missing scope must not stop messages:
   * a terminal failure is logged once and the channel is used without the check; anything else
   * (Slack down) is thrown, and the item is retried later.
   */
  async #readable<T>(channel: Channel, read: () => Promise<T>): Promise<T | undefined> {
    try {
      return await read();
    } catch (error) {
      if (!(error instanceof SlackCallError) || error.failure.kind !== 'terminal') throw error;
      this.#deps.logger.warn('Cannot read a Slack channel; a restart may repeat a message there', {
        channel: channel.name,
        failure: error.failure.message,
      });
      return undefined;
    }
  }

  async #learn(channelId: string, limit: number): Promise<void> {
    for (const message of await this.#deps.web.history(channelId, limit)) {
      if (message.metadata?.event_type !== METADATA_EVENT) continue;
      const keys = (message.metadata.event_payload['keys'] ?? '').split(' ').filter(Boolean);
      const [only] = keys;
      if (only && keys.length === 1 && only.includes('/announce/'))
        this.#announced.set(only, { channel: channelId, ts: message.ts });
      for (const key of keys) {
        this.#done.add(key);
        if (key.endsWith('/tracking') && !this.#tracking.has(key.slice(0, -'/tracking'.length))) {
          this.#tracking.set(key.slice(0, -'/tracking'.length), { channel: channelId, ts: message.ts });
        }
      }
    }
  }

  /** Does one item; false when nothing had to be sent after all. */
  async #perform(channel: Channel, item: Item): Promise<boolean> {
    const { intent } = item;
    if (item.uncertain) {
      const id = await this.#readable(channel, () => this.#deps.web.channelId(channel.name));
      if (id) await this.#readable(channel, () => this.#learn(id, 100));
    }
    switch (intent.kind) {
      case 'tracking':
        return this.#track(intent);
      case 'progress':
        return this.#reply(channel, item, intent);
      case 'announcement':
        return this.#announce(channel, item);
      case 'announcement-update':
        return this.#updateAnnouncement(intent);
      case 'intake-reply':
        return this.#intakeReply(item, intent);
      case 'reaction':
        return this.#react(intent);
      case 'refusal':
        return this.#refuse(item, intent);
    }
  }

  /**
   * Replies in threads are not in a channel's history: before Greenlight's first reply in a thread
   * (and after an uncertain failure), it reads the thread for replies it posted before a crash or
   * restart. Its own decided and refused replies are known by their event types.
   */
  async #scanThread(
    channel: Channel,
    where: { readonly channel: string; readonly threadTs: string; readonly uid: string },
    again: boolean,
  ): Promise<void> {
    const thread = `${where.channel} ${where.threadTs}`;
    if (this.#scannedThreads.has(thread) && !again) return;
    const id = await this.#readable(channel, () => this.#deps.web.channelId(where.channel));
    const messages = id
      ? await this.#readable(channel, () => this.#deps.web.replies(id, where.threadTs))
      : [];
    for (const message of messages ?? []) {
      for (const key of threadKeys(message.metadata, where)) this.#done.add(key);
    }
    this.#scannedThreads.set(thread, where.uid);
  }

  async #intakeReply(item: Item, intent: Extract<SlackIntent, { kind: 'intake-reply' }>): Promise<boolean> {
    const request = this.#deps.request(intent.uid);
    if (!request || this.#done.has(intent.key)) return false;
    // A request decided at once never says it was pending.
    if (intent.stage === 'Pending' && request.status?.phase !== 'Pending') {
      this.#done.add(intent.key);
      return false;
    }
    const channel = this.#channel(intent.channel);
    await this.#scanThread(channel, { ...intent, threadTs: intent.threadTs }, item.uncertain);
    if (this.#done.has(intent.key)) return false;
    const decided = intent.stage === 'Decided';
    await this.#deps.web.postMessage({
      channel: intent.channel,
      threadTs: intent.threadTs,
      ...intakeReply(request, intent.stage),
      metadata: decided
        ? { event_type: DECIDED_EVENT, event_payload: decidedPayload(request) }
        : metadata([intent.key]),
    });
    this.#done.add(intent.key);
    return true;
  }

  async #react(intent: Extract<SlackIntent, { kind: 'reaction' }>): Promise<boolean> {
    if (this.#done.has(intent.key)) return false;
    await this.#deps.web.react(intent.channel, intent.ts, intent.add);
    for (const name of intent.remove) await this.#deps.web.unreact(intent.channel, intent.ts, name);
    this.#done.add(intent.key);
    return false;
  }

  async #refuse(item: Item, intent: Extract<SlackIntent, { kind: 'refusal' }>): Promise<boolean> {
    if (this.#done.has(intent.key)) return false;
    await this.#scanThread(this.#channel(intent.channel), intent, item.uncertain);
    if (this.#done.has(intent.key)) return false;
    await this.#deps.web.postMessage({
      channel: intent.channel,
      threadTs: intent.threadTs,
      ...intent.message,
      metadata: intent.metadata,
    });
    this.#done.add(intent.key);
    return true;
  }

  async #track({
    uid,
    channel: channelName,
    ifPosted,
  }: Extract<SlackIntent, { kind: 'tracking' }>): Promise<boolean> {
    const request = this.#deps.request(uid);
    if (!request) return false;
    const message = escalationMessage(request);
    const shown = fingerprint(message);
    const tracked = this.#tracking.get(uid) ?? fromStatus(request);
    if (!tracked && ifPosted) return false;
    if (tracked) {
      const changed = tracked.shown !== shown;
      if (changed) {
        await this.#deps.web.update({ channel: tracked.channel, ts: tracked.ts, ...message });
        this.#tracking.set(uid, { ...tracked, shown });
      }
      // Also when nothing changed: the attempt that posted or updated the message may have failed to
      // record it (the API server refusing), and only this retry records it.
      if (!request.status?.slack) await this.#deps.recordTracking(request, tracked.channel, tracked.ts);
      return changed;
    }
    const posted = await this.#deps.web.postMessage({
      channel: channelName,
      ...message,
      metadata: metadata([trackingKey(uid)]),
    });
    this.#tracking.set(uid, { channel: posted.channel, ts: posted.ts, shown });
    this.#done.add(trackingKey(uid));
    await this.#deps.recordTracking(request, posted.channel, posted.ts);
    return true;
  }

  async #reply(
    channel: Channel,
    item: Item,
    intent: Extract<SlackIntent, { kind: 'progress' }>,
  ): Promise<boolean> {
    const request = this.#deps.request(intent.uid);
    if (!request || this.#done.has(intent.key)) return false;
    const approval = request.status?.approvals?.[intent.index];
    const tracked = this.#tracking.get(intent.uid) ?? fromStatus(request);
    if (!approval) return false;
    if (!tracked) {
      // The tracking message is not posted yet: come back after it.
      this.#enqueue(channel, { ...item, notBefore: Date.now() + 1_000 });
      return false;
    }
    await this.#scanThread(
      channel,
      { channel: tracked.channel, threadTs: tracked.ts, uid: intent.uid },
      item.uncertain,
    );
    if (this.#done.has(intent.key)) return false;
    const reply = progressReply(approval, waitingFor(request));
    await this.#deps.web.postMessage({
      channel: tracked.channel,
      threadTs: tracked.ts,
      ...reply,
      metadata: metadata([intent.key]),
    });
    this.#done.add(intent.key);
    return true;
  }

  async #announce(channel: Channel, head: Item): Promise<boolean> {
    const queued = channel.queue.filter(
      (item) => item.intent.kind === 'announcement' && !this.#done.has(item.intent.key),
    );
    const batch = queued.length >= DIGEST_FROM ? queued.slice(0, DIGEST_MAX) : [head];
    const requests = batch
      .map((item) => this.#deps.request(item.intent.uid))
      .filter((request): request is ApprovalRequest => request !== undefined);
    const keys = batch.map((item) => item.intent.key);
    if (requests.length === 0 || this.#done.has(head.intent.key)) return false;
    const [single] = requests;
    const message: SlackMessage = batch.length > 1 || !single ? digest(requests) : announcement(single);
    const posted = await this.#deps.web.postMessage({
      channel: channel.name,
      ...message,
      metadata: metadata(keys),
    });
    if (keys.length === 1) this.#announced.set(head.intent.key, posted);
    for (const key of keys) this.#done.add(key);
    // The head is removed by the caller; the others of the digest go now.
    for (const item of batch.slice(1)) this.#dequeue(channel, item);
    return true;
  }

  async #updateAnnouncement(intent: Extract<SlackIntent, { kind: 'announcement-update' }>): Promise<boolean> {
    const posted = this.#announced.get(intent.updates);
    const request = this.#deps.request(intent.uid);
    if (!request) {
      this.#done.add(intent.key);
      return false;
    }
    if (!posted) {
      // The "Escalated" message is not known (it went out in a digest, or the history could not be read
      // after a restart): the outcome goes out as a message of its own rather than not at all.
      await this.#deps.web.postMessage({
        channel: intent.channel,
        ...announcement(request),
        metadata: metadata([intent.key]),
      });
    } else {
      await this.#deps.web.update({ channel: posted.channel, ts: posted.ts, ...announcement(request) });
    }
    this.#done.add(intent.key);
    return true;
  }

  #failed(channel: Channel, item: Item, error: unknown): void {
    const failure: SlackFailure =
      error instanceof SlackCallError
        ? error.failure
        : { kind: 'transient', uncertain: false, message: String(error) };
    const request = this.#deps.request(item.intent.uid);
    const fields = { channel: channel.name, key: item.intent.key, failure: failure.message };
    switch (failure.kind) {
      case 'rate_limited':
        channel.pausedUntil = Date.now() + failure.retryAfterMs;
        this.#deps.logger.warn('Slack rate-limited a channel; pausing it', {
          ...fields,
          retryAfterMs: failure.retryAfterMs,
        });
        return;
      case 'transient':
        item.attempts += 1;
        item.uncertain ||= failure.uncertain;
        item.notBefore = Date.now() + backoffDelay(item.attempts, RETRY);
        this.#deps.logger.warn('Slack call failed; retrying', { ...fields, attempts: item.attempts });
        return;
      case 'terminal':
        this.#dequeue(channel, item);
        this.#deps.logger.error('Slack refused a message; giving up on it', fields);
        this.#deps.onTerminal(request, failure, channel.name);
        return;
    }
  }

  #reportDepth(): void {
    this.#deps.onDepth(this.depth());
  }
}

/** What the request still waits for ("1 of 2 approvals given for policy payments"), if anything. */
function waitingFor(request: ApprovalRequest): string {
  const escalated = request.status?.conditions?.find((c) => c.type === 'Escalated');
  return escalated?.status === 'True' ? escalated.message : '';
}

/** The keys of what a reply in a thread did, read from its metadata. */
function threadKeys(
  found: Metadata | undefined,
  where: { readonly channel: string; readonly threadTs: string; readonly uid: string },
): string[] {
  const payload = found?.event_payload ?? {};
  if (found?.event_type === METADATA_EVENT) return (payload['keys'] ?? '').split(' ').filter(Boolean);
  if (found?.event_type === DECIDED_EVENT) return [intakeReplyKey(where.uid, 'Decided')];
  if (found?.event_type === REFUSED_EVENT)
    return [refusalKey(where.channel, payload['ts'] ?? where.threadTs)];
  return [];
}

function metadata(keys: readonly string[]): Metadata {
  return { event_type: METADATA_EVENT, event_payload: { keys: keys.join(' ') } };
}

function fromStatus(request: ApprovalRequest): Tracked | undefined {
  const slack = request.status?.slack;
  return slack?.ts ? { channel: slack.channel, ts: slack.ts } : undefined;
}

function fingerprint(message: SlackMessage): string {
  return createHash('sha256').update(JSON.stringify(message)).digest('base64url');
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function decrement(counts: Map<string, number>, key: string): void {
  const left = (counts.get(key) ?? 0) - 1;
  if (left > 0) counts.set(key, left);
  else counts.delete(key);
}
