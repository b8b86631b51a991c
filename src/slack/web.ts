import type { KnownBlock } from '@slack/types';
import {
  ErrorCode as SlackErrorCode,
  LogLevel,
  WebClient,
  type Logger as SlackLogger,
  type UsersInfoResponse,
  type WebAPICallResult,
} from '@slack/web-api';
import type { GreenlightMetrics } from '../observability/metrics.ts';
import type { HomeWorkspace, SlackAccount } from './identity.ts';

/** How a failed Slack call should be treated. */
export type SlackFailure =
  | { readonly kind: 'rate_limited'; readonly retryAfterMs: number; readonly message: string }
  /** Worth retrying. `uncertain`: the call may have taken effect (a timeout or a reset after sending). */
  | { readonly kind: 'transient'; readonly uncertain: boolean; readonly message: string }
  /** Retrying cannot help: a missing channel, a bad token, a refused message. */
  | { readonly kind: 'terminal'; readonly error: string; readonly message: string };

export class SlackCallError extends Error {
  readonly failure: SlackFailure;

  constructor(method: string, failure: SlackFailure, options?: ErrorOptions) {
    super(`Slack ${method} failed: ${failure.message}`, options);
    this.name = 'SlackCallError';
    this.failure = failure;
  }
}

const TRANSIENT_PLATFORM_ERRORS = new Set([
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
]);

/** Classifies whatever @slack/web-api threw. Exported for tests. */
export function classify(error: unknown): SlackFailure {
  const coded = error as {
    code?: unknown;
    retryAfter?: unknown;
    statusCode?: unknown;
    data?: { error?: unknown };
  };
  switch (coded.code) {
    case SlackErrorCode.RateLimitedError: {
      const seconds = typeof coded.retryAfter === 'number' ? coded.retryAfter : 1;
      return {
        kind: 'rate_limited',
        retryAfterMs: Math.max(1, seconds) * 1000,
        message: `rate limited for ${seconds}s`,
      };
    }
    case SlackErrorCode.PlatformError: {
      const name = typeof coded.data?.error === 'string' ? coded.data.error : 'unknown_error';
      return TRANSIENT_PLATFORM_ERRORS.has(name)
        ? { kind: 'transient', uncertain: true, message: name }
        : { kind: 'terminal', error: name, message: name };
    }
    case SlackErrorCode.HTTPError: {
      const status = typeof coded.statusCode === 'number' ? coded.statusCode : 0;
      return { kind: 'transient', uncertain: status >= 500, message: `HTTP ${status}` };
    }
    default:
      // Network errors and timeouts: the request may or may not have reached Slack.
      return {
        kind: 'transient',
        uncertain: true,
        message: error instanceof Error ? error.message : String(error),
      };
  }
}

/** The SDK's own logs would repeat what we log with context; keep only its errors, without payloads. */
const quietLogger: SlackLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => LogLevel.ERROR,
  setName: () => undefined,
};

export interface Metadata {
  readonly event_type: string;
  readonly event_payload: Readonly<Record<string, string>>;
}

export interface HistoryMessage {
  readonly ts: string;
  readonly metadata?: Metadata;
}

/** A channel name Slack did not know is looked up again after this long. */
const MISSING_CHANNEL_TTL_MS = 60_000;

/** The Slack Web API calls Greenlight makes, each counted in greenlight_slack_requests_total. */
/** The calls that change what Slack shows (reads stay open to every replica). */
const WRITE_METHODS = new Set([
  'chat.postMessage',
  'chat.update',
  'chat.postEphemeral',
  'chat.delete',
  'reactions.add',
  'reactions.remove',
]);

export class SlackWeb {
  readonly #client: WebClient;
  readonly #metrics: GreenlightMetrics;
  readonly #channelIds = new Map<string, string>();
  /** `#name`s not found, and until when that is believed (so a bad name is not listed for every event). */
  readonly #missing = new Map<string, number>();

  constructor(options: {
    token: string;
    apiUrl: string | undefined;
    metrics: GreenlightMetrics;
    timeoutMs?: number;
    /** The leader's write fence: a replica that lost its lease posts, edits and reacts no more. */
    writeFence?: () => boolean;
  }) {
    this.#client = new WebClient(options.token, {
      ...(options.apiUrl
        ? { slackApiUrl: options.apiUrl.endsWith('/') ? options.apiUrl : `${options.apiUrl}/` }
        : {}),
      // Retries, pacing and Retry-After are the outbox's job, per channel: the SDK would pause every channel.
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: options.timeoutMs ?? 10_000,
      logger: quietLogger,
    });
    this.#metrics = options.metrics;
    this.#writeFence = options.writeFence;
  }

  readonly #writeFence: (() => boolean) | undefined;

  async #call<T extends WebAPICallResult>(method: string, call: () => Promise<T>): Promise<T> {
    if (WRITE_METHODS.has(method) && this.#writeFence?.() === false) {
      // Not sent, so certainly not done: whoever leads now does it.
      throw new SlackCallError(method, {
        kind: 'transient',
        uncertain: false,
        message: 'no longer the leader',
      });
    }
    try {
      const result = await call();
      this.#metrics.recordSlackRequest(method, 'ok');
      return result;
    } catch (error) {
      const failure = classify(error);
      this.#metrics.recordSlackRequest(method, failure.kind === 'rate_limited' ? 'rate_limited' : 'error');
      throw new SlackCallError(method, failure, { cause: error });
    }
  }

  async postMessage(message: {
    channel: string;
    text: string;
    blocks: KnownBlock[];
    threadTs?: string;
    metadata?: Metadata;
  }): Promise<{ channel: string; ts: string }> {
    const result = await this.#call('chat.postMessage', () =>
      this.#client.chat.postMessage({
        channel: message.channel,
        text: message.text,
        blocks: message.blocks,
        ...(message.threadTs ? { thread_ts: message.threadTs } : {}),
        ...(message.metadata ? { metadata: message.metadata } : {}),
        unfurl_links: false,
        unfurl_media: false,
      }),
    );
    const channel = result.channel ?? message.channel;
    if (message.channel !== channel) this.#channelIds.set(message.channel, channel);
    return { channel, ts: result.ts ?? '' };
  }

  async update(message: { channel: string; ts: string; text: string; blocks: KnownBlock[] }): Promise<void> {
    await this.#call('chat.update', () =>
      this.#client.chat.update({
        channel: message.channel,
        ts: message.ts,
        text: message.text,
        blocks: message.blocks,
      }),
    );
  }

  async postEphemeral(message: { channel: string; user: string; text: string }): Promise<void> {
    await this.#call('chat.postEphemeral', () =>
      this.#client.chat.postEphemeral({ channel: message.channel, user: message.user, text: message.text }),
    );
  }

  /** A channel's id from its `#name` (or the id itself), learned from posts or conversations.list. */
  async channelId(channel: string): Promise<string | undefined> {
    if (!channel.startsWith('#')) return channel;
    const known = this.#channelIds.get(channel);
    if (known) return known;
    if ((this.#missing.get(channel) ?? 0) > Date.now()) return undefined;
    await this.#listChannels();
    const found = this.#channelIds.get(channel);
    if (found === undefined) this.#missing.set(channel, Date.now() + MISSING_CHANNEL_TTL_MS);
    else this.#missing.delete(channel);
    return found;
  }

  /** Learns the ids of the channels Greenlight can see (up to 4,000), by name. */
  async #listChannels(): Promise<void> {
    let cursor: string | undefined;
    for (let page = 0; page < 20; page++) {
      const result = await this.#call('conversations.list', () =>
        this.#client.conversations.list({
          types: 'public_channel,private_channel',
          limit: 200,
          exclude_archived: true,
          ...(cursor ? { cursor } : {}),
        }),
      );
      for (const found of result.channels ?? []) {
        if (found.id && found.name) this.#channelIds.set(`#${found.name}`, found.id);
      }
      cursor = result.response_metadata?.next_cursor;
      if (!cursor) break;
    }
  }

  /** Recent messages of a channel with their metadata (newest first), at most `limit`. */
  history(channelId: string, limit: number): Promise<HistoryMessage[]> {
    return this.#pagesOfMessages(limit, (pageLimit, cursor) =>
      this.#call('conversations.history', () =>
        this.#client.conversations.history({
          channel: channelId,
          include_all_metadata: true,
          limit: pageLimit,
          ...(cursor ? { cursor } : {}),
        }),
      ),
    );
  }

  /** A thread's messages with their metadata (the parent first), at most `limit`. */
  replies(channelId: string, threadTs: string, limit = 1_000): Promise<HistoryMessage[]> {
    return this.#pagesOfMessages(limit, (pageLimit, cursor) =>
      this.#call('conversations.replies', () =>
        this.#client.conversations.replies({
          channel: channelId,
          ts: threadTs,
          include_all_metadata: true,
          limit: pageLimit,
          ...(cursor ? { cursor } : {}),
        }),
      ),
    );
  }

  /** Reads pages of messages (at most 200 each) until `limit` or the last page. */
  async #pagesOfMessages(
    limit: number,
    page: (
      pageLimit: number,
      cursor: string | undefined,
    ) => Promise<{
      messages?: { ts?: string; metadata?: unknown }[];
      response_metadata?: { next_cursor?: string };
    }>,
  ): Promise<HistoryMessage[]> {
    const messages: HistoryMessage[] = [];
    let cursor: string | undefined;
    while (messages.length < limit) {
      const result = await page(Math.min(200, limit - messages.length), cursor);
      for (const message of result.messages ?? []) {
        if (message.ts)
          messages.push({
            ts: message.ts,
            ...(isMetadata(message.metadata) ? { metadata: message.metadata } : {}),
          });
      }
      cursor = result.response_metadata?.next_cursor;
      if (!cursor || (result.messages ?? []).length === 0) break;
    }
    return messages;
  }

  /** Puts an emoji on a message; one already there is fine. */
  async react(channel: string, ts: string, name: string): Promise<void> {
    await this.#tolerating('already_reacted', 'reactions.add', () =>
      this.#client.reactions.add({ channel, timestamp: ts, name }),
    );
  }

  /** Takes an emoji off a message; one not there is fine. */
  async unreact(channel: string, ts: string, name: string): Promise<void> {
    await this.#tolerating('no_reaction', 'reactions.remove', () =>
      this.#client.reactions.remove({ channel, timestamp: ts, name }),
    );
  }

  async #tolerating(error: string, method: string, call: () => Promise<WebAPICallResult>): Promise<void> {
    try {
      await this.#call(method, call);
    } catch (failed) {
      if (
        failed instanceof SlackCallError &&
        failed.failure.kind === 'terminal' &&
        failed.failure.error === error
      )
        return;
      throw failed;
    }
  }

  /**
   * A channel as Greenlight sees it (by `#name` or id): its id and whether the bot is in it;
   * undefined when Slack knows no such channel.
   */
  async conversation(channel: string): Promise<{ id: string; isMember: boolean } | undefined> {
    const id = await this.channelId(channel);
    if (id === undefined) return undefined;
    try {
      const result = await this.#call('conversations.info', () =>
        this.#client.conversations.info({ channel: id }),
      );
      return { id: result.channel?.id ?? id, isMember: result.channel?.is_member === true };
    } catch (error) {
      if (
        error instanceof SlackCallError &&
        error.failure.kind === 'terminal' &&
        error.failure.error === 'channel_not_found'
      )
        return undefined;
      throw error;
    }
  }

  /** Who Greenlight's bot is: its bot user, bot and app ids (auth.test). */
  async self(): Promise<{
    botUserId: string | undefined;
    botId: string | undefined;
    appId: string | undefined;
  }> {
    const result = await this.#call('auth.test', () => this.#client.auth.test());
    const appId = (result as { app_id?: unknown }).app_id;
    return {
      botUserId: result.user_id,
      botId: result.bot_id,
      appId: typeof appId === 'string' ? appId : undefined,
    };
  }

  async userGroupMembers(group: string): Promise<string[]> {
    const result = await this.#call('usergroups.users.list', () =>
      this.#client.usergroups.users.list({ usergroup: group }),
    );
    return result.users ?? [];
  }

  /** What Greenlight needs to know of a Slack user to relate them to a Kubernetes user. */
  async account(user: string): Promise<SlackAccount> {
    const result = await this.#call('users.info', () => this.#client.users.info({ user }));
    return accountOf(user, result.user ?? {});
  }

  /** The workspace (and Enterprise Grid organisation) the bot token belongs to. */
  async home(): Promise<HomeWorkspace> {
    const result = await this.#call('auth.test', () => this.#client.auth.test());
    if (!result.team_id)
      throw new SlackCallError('auth.test', { kind: 'terminal', error: 'no_team', message: 'no team_id' });
    return { teamId: result.team_id, enterpriseId: result.enterprise_id };
  }
}

function accountOf(id: string, user: NonNullable<UsersInfoResponse['user']>): SlackAccount {
  const yes = (flag: boolean | undefined): boolean => flag === true;
  return {
    id: user.id ?? id,
    teamId: user.team_id,
    enterpriseId: user.enterprise_user?.enterprise_id ?? user.enterprise_id,
    deleted: yes(user.deleted),
    bot: yes(user.is_bot) || yes(user.is_app_user),
    guest: yes(user.is_restricted) || yes(user.is_ultra_restricted),
    email: user.profile?.email,
    emailConfirmed: yes(user.is_email_confirmed),
  };
}

function isMetadata(value: unknown): value is Metadata {
  const candidate = value as { event_type?: unknown; event_payload?: unknown } | undefined;
  return typeof candidate?.event_type === 'string' && typeof candidate.event_payload === 'object';
}
