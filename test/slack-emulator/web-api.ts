import { booleanArg, numberArg, stringArg, type Args } from './args.ts';
import { contentArgsFrom, isRefusal, newContent, refuse, updatedContent, type Refusal } from './content.ts';
import type { JsonObject } from './json.ts';
import type { MessageStore } from './messages.ts';
import type { ChannelRateLimiter } from './rate-limit.ts';
import { wireMessage } from './wire.ts';
import {
  channelObject,
  findChannel,
  findUser,
  findUserByEmail,
  findUserGroup,
  IDENTITY,
  userGroupObject,
  userObject,
  type SlackChannel,
  type Workspace,
} from './workspace.ts';

/** Who is calling: decided from the bearer token, which itself is never kept. */
export const AUTH = { bot: 'bot', app: 'app', invalid: 'invalid', missing: 'missing' } as const;
export type Auth = (typeof AUTH)[keyof typeof AUTH];

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

const postMessage: Handler = (args, context) => {
  const channel = memberChannelFrom(args, context);
  if (isRefusal(channel)) return failed(channel.refusal);
  const given = contentArgsFrom(args);
  if (isRefusal(given)) return failed(given.refusal);
  const threadTs = threadTsFrom(args, channel, context);
  if (isRefusal(threadTs)) return failed(threadTs.refusal);
  const limited = rateLimited(channel.id, context);
  if (limited !== undefined) return limited;
  const message = context.store.post(channel.id, threadTs, newContent(given), context.nowMs);
  return ok({ channel: channel.id, ts: message.ts, message: wireMessage(message, true) });
};

const update: Handler = (args, context) => {
  const channel = channelFrom(args, context);
  if (isRefusal(channel)) return failed(channel.refusal);
  const ts = stringArg(args, 'ts');
  const previous = ts === undefined ? undefined : context.store.find(channel.id, ts);
  if (previous === undefined) return failed('message_not_found');
  const given = contentArgsFrom(args);
  if (isRefusal(given)) return failed(given.refusal);
  const updated = context.store.update(
    channel.id,
    previous.ts,
    updatedContent(previous, given),
    'chat.update',
  );
  if (updated === undefined) return failed('message_not_found');
  return ok({ channel: channel.id, ts: updated.ts, text: updated.text, message: wireMessage(updated, true) });
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

const authTest: Handler = () =>
  ok({
    url: `https://${IDENTITY.teamDomain}.slack.com/`,
    team: IDENTITY.teamName,
    user: IDENTITY.botName,
    team_id: IDENTITY.teamId,
    user_id: IDENTITY.botUserId,
    bot_id: IDENTITY.botId,
    app_id: IDENTITY.appId,
    is_enterprise_install: false,
  });

const connectionsOpen: Handler = (_args, context) => ok({ url: context.openSocketUrl() });

/** Which token a method takes: the bot token (`xoxb-`), the app-level token (`xapp-`), or either. */
const TOKEN_REQUIREMENTS = { bot: 'bot', app: 'app', either: 'either' } as const;
type TokenRequirement = (typeof TOKEN_REQUIREMENTS)[keyof typeof TOKEN_REQUIREMENTS];

interface MethodSpec {
  readonly token: TokenRequirement;
  readonly handle: Handler;
}

export const METHODS: Readonly<Record<string, MethodSpec>> = {
  'auth.test': { token: 'either', handle: authTest },
  'chat.postMessage': { token: 'bot', handle: postMessage },
  'chat.update': { token: 'bot', handle: update },
  'chat.delete': { token: 'bot', handle: deleteMessage },
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
): Auth {
  const bearer = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  const token = bearer ?? formToken;
  if (token === undefined) return authorization === undefined ? AUTH.missing : AUTH.invalid;
  if (token === workspace.botToken) return AUTH.bot;
  if (token === workspace.appToken) return AUTH.app;
  return AUTH.invalid;
}

/** Runs a known method for an authenticated caller. */
export function callMethod(method: string, args: Args, auth: Auth, context: MethodContext): Outcome {
  const spec = METHODS[method];
  if (spec === undefined) return failed('unknown_method');
  const error = authError(spec.token, auth);
  return error === undefined ? spec.handle(args, context) : failed(error);
}
