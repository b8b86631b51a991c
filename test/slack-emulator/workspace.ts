import type { JsonObject } from './json.ts';

export interface SlackUser {
  readonly id: string;
  readonly name: string;
  readonly email: string;
  readonly realName?: string;
  /** The workspace the account belongs to; another one's for a Slack Connect (external) user. Default: this workspace. */
  readonly teamId?: string;
  /** A multi-channel guest (`is_restricted`). */
  readonly guest?: boolean;
  /** `is_email_confirmed`; default true. */
  readonly emailConfirmed?: boolean;
  /** A deactivated account. */
  readonly deleted?: boolean;
  /** A bot user (`is_bot`). */
  readonly bot?: boolean;
  /** The user's own token (`xoxp-…`): they post in their own name with it (message metadata included). */
  readonly token?: string;
}

/** Another app's bot in the workspace (a payments bot, a CI bot): it posts with its own token. */
export interface SlackBot {
  /** The bot id (B…): `bot_id` on its messages. */
  readonly id: string;
  /** Its bot user (U…): `user` on its messages. */
  readonly userId: string;
  /** Its app (A…): `app_id` on its messages. */
  readonly appId: string;
  readonly name: string;
  /** Its bot token (`xoxb-…`). */
  readonly token: string;
}

/** Who wrote a message or made a reaction. */
export interface Author {
  readonly user: string;
  readonly botId?: string;
  readonly appId?: string;
  /** A bot's name (its `bot_profile.name`). */
  readonly name?: string;
}

export interface SlackChannel {
  readonly id: string;
  /** Without the `#`. */
  readonly name: string;
  /** `false`: the bot was never invited, so posting answers `not_in_channel`. Default `true`. */
  readonly botIsMember?: boolean;
}

export interface SlackUserGroup {
  readonly id: string;
  readonly handle: string;
  readonly users: readonly string[];
}

export interface WorkspaceOptions {
  readonly users?: readonly SlackUser[];
  /** Other apps' bots (default DEFAULT_BOTS). */
  readonly bots?: readonly SlackBot[];
  readonly userGroups?: readonly SlackUserGroup[];
  readonly channels?: readonly SlackChannel[];
  readonly botToken?: string;
  readonly appToken?: string;
  readonly signingSecret?: string;
}

/** The fixed identity of the emulated workspace and of the Greenlight app installed in it. */
export const IDENTITY = {
  teamId: 'T0EMULATOR',
  teamDomain: 'greenlight-emulator',
  teamName: 'Greenlight Emulator',
  appId: 'A0GREENLIGHT',
  botId: 'B0GREENLIGHT',
  botUserId: 'U0GREENLIGHT',
  botName: 'greenlight',
} as const;

export const DEFAULT_CREDENTIALS = {
  botToken: 'xoxb-emulator',
  appToken: 'xapp-emulator',
  signingSecret: 'emulator-signing-secret',
} as const;

/** Greenlight's own bot, as the author of what it posts. */
export const GREENLIGHT_AUTHOR: Author = {
  user: IDENTITY.botUserId,
  botId: IDENTITY.botId,
  appId: IDENTITY.appId,
  name: IDENTITY.botName,
};

/** A bot as the author of what it posts. */
export function botAuthor(bot: SlackBot): Author {
  return { user: bot.userId, botId: bot.id, appId: bot.appId, name: bot.name };
}

export const DEFAULT_USERS: readonly SlackUser[] = [
  {
    id: 'U0ALICE',
    name: 'alice',
    email: 'alice@example.com',
    realName: 'Alice Approver',
    token: 'xoxp-alice',
  },
  { id: 'U0BOB', name: 'bob', email: 'bob@example.com', realName: 'Bob Approver', token: 'xoxp-bob' },
  {
    id: 'U0CAROL',
    name: 'carol',
    email: 'carol@example.com',
    realName: 'Carol Developer',
    token: 'xoxp-carol',
  },
  { id: 'U0DAVE', name: 'dave', email: 'dave@example.com', realName: 'Dave Operator', token: 'xoxp-dave' },
];

/** A payments system's bot that asks Greenlight for approvals in #payments-requests. */
export const DEFAULT_BOTS: readonly SlackBot[] = [
  { id: 'B0PAYBOT', userId: 'U0PAYBOT', appId: 'A0PAYBOT', name: 'payments-bot', token: 'xoxb-payments-bot' },
];

export const DEFAULT_USER_GROUPS: readonly SlackUserGroup[] = [
  { id: 'S0APPROVERS', handle: 'approvers', users: ['U0ALICE', 'U0BOB'] },
  { id: 'S0DEVELOPERS', handle: 'developers', users: ['U0CAROL'] },
];

export const DEFAULT_CHANNELS: readonly SlackChannel[] = [
  { id: 'C0WORKFLOW', name: 'workflow-updates' },
  { id: 'C0PAYMENTS', name: 'payments-approvals' },
  { id: 'C0DEPLOYS', name: 'deployments' },
  { id: 'C0PRIVATE', name: 'private-ops', botIsMember: false },
  { id: 'C0PAYREQ', name: 'payments-requests' },
];

export interface Workspace {
  readonly botToken: string;
  readonly appToken: string;
  readonly signingSecret: string;
  readonly users: readonly SlackUser[];
  readonly bots: readonly SlackBot[];
  readonly userGroups: readonly SlackUserGroup[];
  readonly channels: readonly SlackChannel[];
}

export function createWorkspace(options: WorkspaceOptions): Workspace {
  return {
    botToken: options.botToken ?? DEFAULT_CREDENTIALS.botToken,
    appToken: options.appToken ?? DEFAULT_CREDENTIALS.appToken,
    signingSecret: options.signingSecret ?? DEFAULT_CREDENTIALS.signingSecret,
    users: options.users ?? DEFAULT_USERS,
    bots: options.bots ?? DEFAULT_BOTS,
    userGroups: options.userGroups ?? DEFAULT_USER_GROUPS,
    channels: options.channels ?? DEFAULT_CHANNELS,
  };
}

/** A channel by id (`C0PAYMENTS`) or name (`#payments-approvals` or `payments-approvals`). */
export function findChannel(workspace: Workspace, reference: string): SlackChannel | undefined {
  const name = reference.startsWith('#') ? reference.slice(1) : reference;
  return workspace.channels.find((channel) => channel.id === reference || channel.name === name);
}

/** A user by id; another app's bot user reads as a user with `bot: true`, as users.info shows it. */
export function findUser(workspace: Workspace, id: string): SlackUser | undefined {
  const user = workspace.users.find((candidate) => candidate.id === id);
  if (user) return user;
  const bot = workspace.bots.find((candidate) => candidate.userId === id);
  if (bot) return { id: bot.userId, name: bot.name, email: '', bot: true };
  if (id === IDENTITY.botUserId) return { id, name: IDENTITY.botName, email: '', bot: true };
  return undefined;
}

export function findBot(workspace: Workspace, id: string): SlackBot | undefined {
  return workspace.bots.find((bot) => bot.id === id || bot.userId === id);
}

export function findUserByEmail(workspace: Workspace, email: string): SlackUser | undefined {
  const wanted = email.toLowerCase();
  return workspace.users.find((user) => user.email.toLowerCase() === wanted);
}

export function findUserGroup(workspace: Workspace, reference: string): SlackUserGroup | undefined {
  return workspace.userGroups.find((group) => group.id === reference || group.handle === reference);
}

/** The `user` object of `users.info` and `users.lookupByEmail`. */
export function userObject(user: SlackUser): JsonObject {
  const realName = user.realName ?? user.name;
  const teamId = user.teamId ?? IDENTITY.teamId;
  return {
    id: user.id,
    team_id: teamId,
    name: user.name,
    real_name: realName,
    deleted: user.deleted ?? false,
    is_bot: user.bot ?? false,
    is_app_user: false,
    is_restricted: user.guest ?? false,
    is_ultra_restricted: false,
    is_stranger: teamId !== IDENTITY.teamId,
    is_email_confirmed: user.emailConfirmed ?? true,
    tz: 'Etc/UTC',
    profile: { email: user.email, real_name: realName, display_name: user.name, team: teamId },
  };
}

/** The `channel` object of `conversations.info` and `conversations.list`. */
export function channelObject(channel: SlackChannel, botIsMember: boolean): JsonObject {
  return {
    id: channel.id,
    name: channel.name,
    is_channel: true,
    is_private: false,
    is_archived: false,
    is_member: botIsMember,
    context_team_id: IDENTITY.teamId,
  };
}

export function userGroupObject(group: SlackUserGroup, includeUsers: boolean): JsonObject {
  const base = {
    id: group.id,
    team_id: IDENTITY.teamId,
    handle: group.handle,
    name: group.handle,
    is_usergroup: true,
    user_count: group.users.length,
  };
  return includeUsers ? { ...base, users: [...group.users] } : base;
}
