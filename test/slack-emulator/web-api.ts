import { booleanArg, numberArg, stringArg, type Args } from './args.ts';
import { contentArgsFrom, isRefusal, newContent, refuse, updatedContent, type Refusal } from './content.ts';
import type { JsonObject } from './json.ts';
import type { MessageStore, PostedMessage } from './messages.ts';
import type { ChannelRateLimiter } from './rate-limit.ts';
import { wireMessage } from './wire.ts';
import {
  botAuthor,
  channelObject,
  findChannel,
  findUser,
  findUserByEmail,
  findUserGroup,
  GREENLIGHT_AUTHOR,
  IDENTITY,
  userGroupObject,
  userObject,
  type Author,
  type SlackChannel,
  type Workspace,
} from './workspace.ts';

/**
 * Which kind of token is calling, decided from the bearer token, which itself is never kept: a bot
 * token (Greenlight's or another app's bot), the app-level token, or a person's user token.
 */
export const AUTH = {
  bot: 'bot',
  app: 'app',
  user: 'user',
  invalid: 'invalid',
  missing: 'missing',
} as const;
export type Auth = (typeof AUTH)[keyof typeof AUTH];

/** The caller: the kind of token, and whose it is (what their messages and reactions are written as). */
export interface Caller {
  readonly auth: Auth;
  readonly author?: Author;
}

/** What the Web API tells the rest of the emulator about, so it can deliver events. */
export interface MessageEvents {
  posted(message: PostedMessage): void;
  changed(previous: PostedMessage, current: PostedMessage): void;
}

/** What a Web API method answers, before it becomes HTTP. */
export type Outcome =
  | { readonly kind: 'ok'; readonly body: JsonObject }
  | { readonly kind: 'error'; readonly error: string }
  | { readonly kind: 'ratelimited'; readonly retryAfterSeconds: number; readonly channel?: string };

export interface MethodContext {
  readonly workspace: Workspace;
  readonly store: MessageStore;
  readonly limiter: ChannelRateLimiter;
  readonly botIsMember: (channelId: string) => boolean;
  /** A fresh single-use Socket Mode URL. */
  readonly openSocketUrl: () => string;
  readonly nowMs: number;
  /** Who is calling (undefined for the app-level token). */
  readonly author: Author | undefined;
  readonly events: MessageEvents;
}

type Handler = (args: Args, context: MethodContext) => Outcome;

const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 999;

function ok(body: JsonObject): Outcome {
  return { kind: 'ok', body: { ok: true, ...body } };
}

function failed(error: string): Outcome {
  return { kind: 'error', error };
}

function channelFrom(args: Args, context: MethodContext): SlackChannel | Refusal {
  const reference = stringArg(args, 'channel');
  const channel = reference === undefined ? undefined : findChannel(context.workspace, reference);
  return channel ?? refuse('channel_not_found');
}

function memberChannelFrom(args: Args, context: MethodContext): SlackChannel | Refusal {
  const channel = channelFrom(args, context);
  if (isRefusal(channel)) return channel;
  return context.botIsMember(channel.id) ? channel : refuse('not_in_channel');
}

function threadTsFrom(
  args: Args,
  channel: SlackChannel,
  context: MethodContext,
): string | undefined | Refusal {
  const threadTs = stringArg(args, 'thread_ts');
  if (threadTs === undefined) return undefined;
  return context.store.find(channel.id, threadTs) === undefined ? refuse('thread_not_found') : threadTs;
}

function rateLimited(channel: string, context: MethodContext): Outcome | undefined {
  const retryAfterSeconds = context.limiter.take(channel, context.nowMs);
  return retryAfterSeconds === undefined ? undefined : { kind: 'ratelimited', retryAfterSeconds, channel };
}

/** Greenlight's bot must be in a channel to post there; other callers are taken to be members. */
function postableChannelFrom(args: Args, context: MethodContext): SlackChannel | Refusal {
  return isGreenlight(context.author) ? memberChannelFrom(args, context) : channelFrom(args, context);
}

function isGreenlight(author: Author | undefined): boolean {
  return author?.user === GREENLIGHT_AUTHOR.user;
}

const postMessage: Handler = (args, context) => {
  const channel = postableChannelFrom(args, context);
  if (isRefusal(channel)) return failed(channel.refusal);
  const given = contentArgsFrom(args);
  if (isRefusal(given)) return failed(given.refusal);
  const threadTs = threadTsFrom(args, channel, context);
  if (isRefusal(threadTs)) return failed(threadTs.refusal);
  const limited = rateLimited(channel.id, context);
  if (limited !== undefined) return limited;
  const author = context.author ?? GREENLIGHT_AUTHOR;
  const message = context.store.post(channel.id, threadTs, newContent(given), context.nowMs, author);
  context.events.posted(message);
  return ok({ channel: channel.id, ts: message.ts, message: wireMessage(message, true) });
};

const update: Handler = (args, context) => {
  const channel = channelFrom(args, context);
  if (isRefusal(channel)) return failed(channel.refusal);
  const ts = stringArg(args, 'ts');
  const previous = ts === undefined ? undefined : context.store.find(channel.id, ts);
  if (previous === undefined) return failed('message_not_found');
  // Slack lets an app or a person edit their own messages only.
  if (previous.author.user !== (context.author ?? GREENLIGHT_AUTHOR).user)
    return failed('cant_update_message');
  const given = contentArgsFrom(args);
  if (isRefusal(given)) return failed(given.refusal);
  const updated = context.store.update(
    channel.id,
    previous.ts,
    updatedContent(previous, given),
    'chat.update',
  );
  if (updated === undefined) return failed('message_not_found');
  context.events.changed(previous, updated);
  return ok({ channel: channel.id, ts: updated.ts, text: updated.text, message: wireMessage(updated, true) });
};

/** Slack's emoji names: lower case, digits, `_`, `+`, `-`, and skin tones as `::skin-tone-2`. */
const EMOJI_NAME = /^[a-z0-9_+'-]+(::skin-tone-[2-6])?$/;

function reactionTarget(
  args: Args,
  context: MethodContext,
): { channel: SlackChannel; ts: string; name: string } | Refusal {
  const channel = postableChannelFrom(args, context);
  if (isRefusal(channel)) return channel;
  const ts = stringArg(args, 'timestamp');
  if (ts === undefined || context.store.find(channel.id, ts) === undefined)
    return refuse('message_not_found');
  const name = stringArg(args, 'name')?.replace(/^:|:$/g, '');
  if (name === undefined || !EMOJI_NAME.test(name)) return refuse('invalid_name');
  return { channel, ts, name };
}

function react(add: boolean): Handler {
  return (args, context) => {
    const target = reactionTarget(args, context);
    if (isRefusal(target)) return failed(target.refusal);
    const user = (context.author ?? GREENLIGHT_AUTHOR).user;
    const change = context.store.react(target.channel.id, target.ts, target.name, user, add);
    return change === 'ok' ? ok({}) : failed(change);
  };
}

const reactionsGet: Handler = (args, context) => {
  const channel = postableChannelFrom(args, context);
  if (isRefusal(channel)) return failed(channel.refusal);
  const message = context.store.find(channel.id, stringArg(args, 'timestamp') ?? '');
  if (message === undefined) return failed('message_not_found');
  return ok({ type: 'message', channel: channel.id, message: wireMessage(message, false) });
};

const deleteMessage: Handler = (args, context) => {
  const channel = channelFrom(args, context);
  if (isRefusal(channel)) return failed(channel.refusal);
  const ts = stringArg(args, 'ts') ?? '';
  return context.store.delete(channel.id, ts) ? ok({ channel: channel.id, ts }) : failed('message_not_found');
};

const postEphemeral: Handler = (args, context) => {
  const channel = memberChannelFrom(args, context);
  if (isRefusal(channel)) return failed(channel.refusal);
  const user = findUser(context.workspace, stringArg(args, 'user') ?? '');
  if (user === undefined) return failed('user_not_found');
  const given = contentArgsFrom(args);
  if (isRefusal(given)) return failed(given.refusal);
  const messageTs = context.store.nextTs(context.nowMs);
  const threadTs = stringArg(args, 'thread_ts');
  context.store.addEphemeral({
    channel: channel.id,
    user: user.id,
    messageTs,
    text: given.text ?? '',
    ...(given.blocks === undefined ? {} : { blocks: given.blocks }),
    ...(threadTs === undefined ? {} : { threadTs }),
    via: 'chat.postEphemeral',
    at: new Date(context.nowMs),
  });
  return ok({ message_ts: messageTs });
};

function pageSize(args: Args): number {
  const limit = numberArg(args, 'limit');
  return limit === undefined || limit < 1 ? DEFAULT_PAGE_SIZE : Math.min(Math.floor(limit), MAX_PAGE_SIZE);
}

function optional(name: string, value: string | undefined): Readonly<Record<string, string>> {
  return value === undefined ? {} : { [name]: value };
}

const history: Handler = (args, context) => {
  const channel = memberChannelFrom(args, context);
  if (isRefusal(channel)) return failed(channel.refusal);
  const includeMetadata = booleanArg(args, 'include_all_metadata');
  const page = context.store.history(channel.id, {
    ...optional('oldest', stringArg(args, 'oldest')),
    ...optional('latest', stringArg(args, 'latest')),
    ...optional('cursor', stringArg(args, 'cursor')),
    inclusive: booleanArg(args, 'inclusive'),
    limit: pageSize(args),
  });
  const messages = page.items.map((message) =>
    wireMessage(message, includeMetadata, context.store.threadInfo(channel.id, message.ts)),
  );
  return ok({
    messages,
    has_more: page.nextCursor !== '',
    pin_count: 0,
    channel_actions_count: 0,
    response_metadata: { next_cursor: page.nextCursor },
  });
};

const replies: Handler = (args, context) => {
  const channel = memberChannelFrom(args, context);
  if (isRefusal(channel)) return failed(channel.refusal);
  const includeMetadata = booleanArg(args, 'include_all_metadata');
  const ts = stringArg(args, 'ts') ?? '';
  const page = context.store.replies(channel.id, ts, pageSize(args), stringArg(args, 'cursor'));
  if (page === undefined) return failed('thread_not_found');
  const thread = context.store.threadInfo(channel.id, ts);
  const messages = page.items.map((message) =>
    wireMessage(message, includeMetadata, message.ts === ts ? thread : undefined),
  );
  return ok({
    messages,
    has_more: page.nextCursor !== '',
    response_metadata: { next_cursor: page.nextCursor },
  });
};

const conversationsInfo: Handler = (args, context) => {
  const channel = channelFrom(args, context);
  if (isRefusal(channel)) return failed(channel.refusal);
  return ok({ channel: channelObject(channel, context.botIsMember(channel.id)) });
};

const conversationsList: Handler = (_args, context) =>
  ok({
    channels: context.workspace.channels.map((channel) =>
      channelObject(channel, context.botIsMember(channel.id)),
    ),
    response_metadata: { next_cursor: '' },
  });

const usersInfo: Handler = (args, context) => {
  const user = findUser(context.workspace, stringArg(args, 'user') ?? '');
  return user === undefined ? failed('user_not_found') : ok({ user: userObject(user) });
};

const lookupByEmail: Handler = (args, context) => {
  const user = findUserByEmail(context.workspace, stringArg(args, 'email') ?? '');
  return user === undefined ? failed('users_not_found') : ok({ user: userObject(user) });
};

const userGroupUsers: Handler = (args, context) => {
  const group = findUserGroup(context.workspace, stringArg(args, 'usergroup') ?? '');
  return group === undefined ? failed('no_such_subteam') : ok({ users: [...group.users] });
};

const userGroupsList: Handler = (args, context) => {
  const includeUsers = booleanArg(args, 'include_users');
  return ok({
    usergroups: context.workspace.userGroups.map((group) => userGroupObject(group, includeUsers)),
  });
};

const authTest: Handler = (_args, context) => {
  const author = context.author ?? GREENLIGHT_AUTHOR;
  return ok({
    url: `https://${IDENTITY.teamDomain}.slack.com/`,
    team: IDENTITY.teamName,
    user: author.name ?? findUser(context.workspace, author.user)?.name ?? author.user,
    team_id: IDENTITY.teamId,
    user_id: author.user,
    ...(author.botId === undefined ? {} : { bot_id: author.botId }),
    ...(author.appId === undefined ? {} : { app_id: author.appId }),
    is_enterprise_install: false,
  });
};

const connectionsOpen: Handler = (_args, context) => ok({ url: context.openSocketUrl() });

/**
 * Which token a method takes: a bot token (`xoxb-`), the app-level token (`xapp-`), either of those,
 * or a bot or a person's user token (`xoxp-`: people post, edit and react in their own name).
 */
const TOKEN_REQUIREMENTS = { bot: 'bot', app: 'app', either: 'either', botOrUser: 'botOrUser' } as const;
type TokenRequirement = (typeof TOKEN_REQUIREMENTS)[keyof typeof TOKEN_REQUIREMENTS];

interface MethodSpec {
  readonly token: TokenRequirement;
  readonly handle: Handler;
}

export const METHODS: Readonly<Record<string, MethodSpec>> = {
  'auth.test': { token: 'either', handle: authTest },
  'chat.postMessage': { token: 'botOrUser', handle: postMessage },
  'chat.update': { token: 'botOrUser', handle: update },
  'chat.delete': { token: 'bot', handle: deleteMessage },
  'reactions.add': { token: 'botOrUser', handle: react(true) },
  'reactions.remove': { token: 'botOrUser', handle: react(false) },
  'reactions.get': { token: 'botOrUser', handle: reactionsGet },
  'chat.postEphemeral': { token: 'bot', handle: postEphemeral },
  'conversations.history': { token: 'bot', handle: history },
  'conversations.replies': { token: 'bot', handle: replies },
  'conversations.info': { token: 'bot', handle: conversationsInfo },
  'conversations.list': { token: 'bot', handle: conversationsList },
  'users.info': { token: 'bot', handle: usersInfo },
  'users.lookupByEmail': { token: 'bot', handle: lookupByEmail },
  'usergroups.list': { token: 'bot', handle: userGroupsList },
  'usergroups.users.list': { token: 'bot', handle: userGroupUsers },
  'apps.connections.open': { token: 'app', handle: connectionsOpen },
};

/** The error for a caller whose token does not fit the method, if any. */
export function authError(required: TokenRequirement, auth: Auth): string | undefined {
  if (auth === AUTH.missing) return 'not_authed';
  if (auth === AUTH.invalid) return 'invalid_auth';
  if (required === TOKEN_REQUIREMENTS.botOrUser) {
    return auth === AUTH.bot || auth === AUTH.user ? undefined : 'not_allowed_token_type';
  }
  if (auth === AUTH.user) return 'not_allowed_token_type';
  if (required === TOKEN_REQUIREMENTS.either || required === auth) return undefined;
  // Slack answers a bot token on apps.connections.open with invalid_auth, an app token elsewhere with
  // not_allowed_token_type.
  return required === TOKEN_REQUIREMENTS.app ? 'invalid_auth' : 'not_allowed_token_type';
}

/** Classifies a bearer token (or a `token` form field) against the workspace's credentials. */
export function authenticate(
  authorization: string | undefined,
  formToken: string | undefined,
  workspace: Workspace,
): Caller {
  const bearer = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  const token = bearer ?? formToken;
  if (token === undefined) return { auth: authorization === undefined ? AUTH.missing : AUTH.invalid };
  if (token === workspace.botToken) return { auth: AUTH.bot, author: GREENLIGHT_AUTHOR };
  if (token === workspace.appToken) return { auth: AUTH.app };
  const bot = workspace.bots.find((candidate) => candidate.token === token);
  if (bot) return { auth: AUTH.bot, author: botAuthor(bot) };
  const person = workspace.users.find((user) => user.token !== undefined && user.token === token);
  if (person) return { auth: AUTH.user, author: { user: person.id } };
  return { auth: AUTH.invalid };
}

/** Runs a known method for an authenticated caller. */
export function callMethod(method: string, args: Args, auth: Auth, context: MethodContext): Outcome {
  const spec = METHODS[method];
  if (spec === undefined) return failed('unknown_method');
  const error = authError(spec.token, auth);
  return error === undefined ? spec.handle(args, context) : failed(error);
}
