import type { JsonObject } from './json.ts';
import { GREENLIGHT_AUTHOR, type Author } from './workspace.ts';

/** Slack's message metadata, as sent and returned on the wire. */
export interface MessageMetadata {
  readonly event_type: string;
  readonly event_payload: JsonObject;
}

export interface MessageContent {
  readonly text: string;
  readonly blocks?: readonly JsonObject[];
  readonly metadata?: MessageMetadata;
}

export const CHANGE_SOURCES = {
  postMessage: 'chat.postMessage',
  update: 'chat.update',
  responseUrl: 'response_url',
} as const;
export type ChangeSource = (typeof CHANGE_SOURCES)[keyof typeof CHANGE_SOURCES];

/** One state of a message: as posted, or after an update. */
export interface MessageVersion extends MessageContent {
  readonly at: Date;
  readonly via: ChangeSource;
}

/** One emoji on a message, and who put it there. */
export interface Reaction {
  readonly name: string;
  readonly users: readonly string[];
}

/** A message posted in the workspace, with its current content and every version it went through. */
export interface PostedMessage extends MessageContent {
  readonly channel: string;
  readonly ts: string;
  readonly threadTs?: string;
  readonly deleted: boolean;
  /** Who posted it: Greenlight's bot unless another bot or a person posted with their own token. */
  readonly author: Author;
  /** `history[0]` is the message as posted, the last entry its current content. */
  readonly history: readonly MessageVersion[];
  /** Emoji reactions, in the order they were first added. */
  readonly reactions: readonly Reaction[];
}

export interface EphemeralMessage {
  readonly channel: string;
  readonly user: string;
  readonly messageTs: string;
  readonly text: string;
  readonly blocks?: readonly JsonObject[];
  readonly threadTs?: string;
  readonly via: 'chat.postEphemeral' | 'response_url';
  readonly at: Date;
}

interface StoredMessage {
  readonly channel: string;
  readonly ts: string;
  readonly threadTs?: string;
  deleted: boolean;
  readonly author: Author;
  readonly history: MessageVersion[];
  /** emoji name → users, in the order first added. */
  readonly reactions: Map<string, string[]>;
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor: string;
}

/** Slack timestamps: epoch seconds with six digits of "microseconds", unique and increasing. */
export class TsClock {
  #lastMicros = 0;

  next(nowMs: number): string {
    this.#lastMicros = Math.max(Math.floor(nowMs * 1000), this.#lastMicros + 1);
    const seconds = Math.floor(this.#lastMicros / 1_000_000);
    const micros = this.#lastMicros % 1_000_000;
    return `${seconds}.${String(micros).padStart(6, '0')}`;
  }
}

/** Compares Slack timestamps numerically (they are decimal strings with a fixed six-digit fraction). */
export function compareTs(left: string, right: string): number {
  return Number(left) - Number(right);
}

function currentVersion(message: StoredMessage): MessageVersion {
  const version = message.history.at(-1);
  if (version === undefined) throw new Error(`message ${message.ts} has no content`);
  return version;
}

function contentOf(version: MessageContent): MessageContent {
  return {
    text: version.text,
    ...(version.blocks === undefined ? {} : { blocks: version.blocks }),
    ...(version.metadata === undefined ? {} : { metadata: version.metadata }),
  };
}

function snapshot(message: StoredMessage): PostedMessage {
  const history = structuredClone(message.history);
  return {
    channel: message.channel,
    ts: message.ts,
    ...(message.threadTs === undefined ? {} : { threadTs: message.threadTs }),
    deleted: message.deleted,
    author: { ...message.author },
    ...contentOf(currentVersion({ ...message, history })),
    history,
    reactions: [...message.reactions].map(([name, users]) => ({ name, users: [...users] })),
  };
}

/** What reactions.add and reactions.remove answer. */
export type ReactionChange = 'ok' | 'message_not_found' | 'already_reacted' | 'no_reaction';

function isTopLevel(message: StoredMessage): boolean {
  return message.threadTs === undefined || message.threadTs === message.ts;
}

function encodeCursor(ts: string): string {
  return Buffer.from(`next_ts:${ts}`).toString('base64');
}

function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const text = Buffer.from(cursor, 'base64').toString();
  return text.startsWith('next_ts:') ? text.slice('next_ts:'.length) : undefined;
}

/** Takes `limit` items after the cursor; items are in the order they are returned. */
function paginate(
  items: readonly StoredMessage[],
  limit: number,
  cursor: string | undefined,
  newestFirst: boolean,
): Page<StoredMessage> {
  const after = decodeCursor(cursor);
  const rest =
    after === undefined
      ? items
      : items.filter((item) => (newestFirst ? compareTs(item.ts, after) < 0 : compareTs(item.ts, after) > 0));
  const page = rest.slice(0, limit);
  const last = page.at(-1);
  return { items: page, nextCursor: rest.length > limit && last !== undefined ? encodeCursor(last.ts) : '' };
}

export interface HistoryQuery {
  readonly oldest?: string;
  readonly latest?: string;
  readonly inclusive: boolean;
  readonly limit: number;
  readonly cursor?: string;
}

function withinRange(ts: string, query: HistoryQuery): boolean {
  const low = query.oldest === undefined ? 1 : compareTs(ts, query.oldest);
  const high = query.latest === undefined ? -1 : compareTs(ts, query.latest);
  return query.inclusive ? low >= 0 && high <= 0 : low > 0 && high < 0;
}

export interface ThreadInfo {
  readonly replyCount: number;
  readonly replyUsers: readonly string[];
  readonly latestReply?: string;
}

/** What changed in the store: a message (posted, updated or deleted), or a new ephemeral message. */
export type StoreChange =
  | { readonly kind: 'message'; readonly channel: string; readonly ts: string; readonly threadTs?: string }
  | { readonly kind: 'ephemeral'; readonly ephemeral: EphemeralMessage };

/** Every message and ephemeral message the bot sent, in the order they were sent. */
export class MessageStore {
  readonly #messages: StoredMessage[] = [];
  readonly #ephemerals: EphemeralMessage[] = [];
  readonly #clock = new TsClock();
  readonly #onChange: (change: StoreChange) => void;

  /** `onChange` hears of every change once it is made (the web view streams them to browsers). */
  constructor(onChange: (change: StoreChange) => void = () => undefined) {
    this.#onChange = onChange;
  }

  nextTs(nowMs: number): string {
    return this.#clock.next(nowMs);
  }

  post(
    channel: string,
    threadTs: string | undefined,
    content: MessageContent,
    nowMs: number,
    author: Author = GREENLIGHT_AUTHOR,
  ): PostedMessage {
    const stored: StoredMessage = {
      channel,
      ts: this.nextTs(nowMs),
      ...(threadTs === undefined ? {} : { threadTs }),
      deleted: false,
      author,
      history: [{ ...content, at: new Date(nowMs), via: CHANGE_SOURCES.postMessage }],
      reactions: new Map(),
    };
    this.#messages.push(stored);
    this.#changed(stored);
    return snapshot(stored);
  }

  find(channel: string, ts: string): PostedMessage | undefined {
    const stored = this.#find(channel, ts);
    return stored === undefined ? undefined : snapshot(stored);
  }

  update(channel: string, ts: string, content: MessageContent, via: ChangeSource): PostedMessage | undefined {
    const stored = this.#find(channel, ts);
    if (stored === undefined) return undefined;
    stored.history.push({ ...content, at: new Date(), via });
    this.#changed(stored);
    return snapshot(stored);
  }

  /** Adds (or removes) `user`'s reaction `name` on a message. */
  react(channel: string, ts: string, name: string, user: string, add: boolean): ReactionChange {
    const stored = this.#find(channel, ts);
    if (stored === undefined) return 'message_not_found';
    const users = stored.reactions.get(name) ?? [];
    const has = users.includes(user);
    if (add && has) return 'already_reacted';
    if (!add && !has) return 'no_reaction';
    const next = add ? [...users, user] : users.filter((other) => other !== user);
    if (next.length > 0) stored.reactions.set(name, next);
    else stored.reactions.delete(name);
    return 'ok';
  }

  delete(channel: string, ts: string): boolean {
    const stored = this.#find(channel, ts);
    if (stored === undefined) return false;
    stored.deleted = true;
    this.#changed(stored);
    return true;
  }

  addEphemeral(ephemeral: EphemeralMessage): void {
    this.#ephemerals.push(ephemeral);
    this.#onChange({ kind: 'ephemeral', ephemeral: structuredClone(ephemeral) });
  }

  messages(channel?: string): readonly PostedMessage[] {
    return this.#messages
      .filter((message) => channel === undefined || message.channel === channel)
      .map(snapshot);
  }

  ephemerals(channel?: string): readonly EphemeralMessage[] {
    return this.#ephemerals
      .filter((ephemeral) => channel === undefined || ephemeral.channel === channel)
      .map((ephemeral) => structuredClone(ephemeral));
  }

  /** `conversations.history`: top-level messages in range, newest first. */
  history(channel: string, query: HistoryQuery): Page<PostedMessage> {
    const candidates = this.#live(channel)
      .filter((message) => isTopLevel(message) && withinRange(message.ts, query))
      .reverse();
    const page = paginate(candidates, query.limit, query.cursor, true);
    return { items: page.items.map(snapshot), nextCursor: page.nextCursor };
  }

  /** `conversations.replies`: the parent first, then its replies oldest first; `undefined` without parent. */
  replies(channel: string, ts: string, limit: number, cursor?: string): Page<PostedMessage> | undefined {
    const live = this.#live(channel);
    const parent = live.find((message) => message.ts === ts);
    if (parent === undefined) return undefined;
    const thread = [parent, ...live.filter((message) => message.threadTs === ts && message.ts !== ts)];
    const page = paginate(thread, limit, cursor, false);
    return { items: page.items.map(snapshot), nextCursor: page.nextCursor };
  }

  threadInfo(channel: string, ts: string): ThreadInfo {
    const replies = this.#live(channel).filter((message) => message.threadTs === ts && message.ts !== ts);
    const latest = replies.at(-1);
    return {
      replyCount: replies.length,
      replyUsers: [...new Set(replies.map((reply) => reply.author.user))],
      ...(latest === undefined ? {} : { latestReply: latest.ts }),
    };
  }

  #changed({ channel, ts, threadTs }: StoredMessage): void {
    this.#onChange({ kind: 'message', channel, ts, ...(threadTs === undefined ? {} : { threadTs }) });
  }

  #find(channel: string, ts: string): StoredMessage | undefined {
    return this.#messages.find(
      (message) => message.channel === channel && message.ts === ts && !message.deleted,
    );
  }

  #live(channel: string): StoredMessage[] {
    return this.#messages.filter((message) => message.channel === channel && !message.deleted);
  }
}
