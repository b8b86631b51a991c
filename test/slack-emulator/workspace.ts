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

export const DEFAULT_USERS: readonly SlackUser[] = [
  { id: 'U0ALICE', name: 'alice', email: 'alice@example.com', realName: 'Alice Approver' },
  { id: 'U0BOB', name: 'bob', email: 'bob@example.com', realName: 'Bob Approver' },
  { id: 'U0CAROL', name: 'carol', email: 'carol@example.com', realName: 'Carol Developer' },
  { id: 'U0DAVE', name: 'dave', email: 'dave@example.com', realName: 'Dave Operator' },
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
];

export interface Workspace {
  readonly botToken: string;
  readonly appToken: string;
  readonly signingSecret: string;
  readonly users: readonly SlackUser[];
  readonly userGroups: readonly SlackUserGroup[];
  readonly channels: readonly SlackChannel[];
}

export function createWorkspace(options: WorkspaceOptions): Workspace {
  return {
    botToken: options.botToken ?? DEFAULT_CREDENTIALS.botToken,
    appToken: options.appToken ?? DEFAULT_CREDENTIALS.appToken,
    signingSecret: options.signingSecret ?? DEFAULT_CREDENTIALS.signingSecret,
    users: options.users ?? DEFAULT_USERS,
    userGroups: options.userGroups ?? DEFAULT_USER_GROUPS,
    channels: options.channels ?? DEFAULT_CHANNELS,
  };
}

/** A channel by id (`C0PAYMENTS`) or name (`#payments-approvals` or `payments-approvals`). */
export function findChannel(workspace: Workspace, reference: string): SlackChannel | undefined {
  const name = reference.startsWith('#') ? reference.slice(1) : reference;
  return workspace.channels.find((channel) => channel.id === reference || channel.name === name);
}

export function findUser(workspace: Workspace, id: string): SlackUser | undefined {
  return workspace.users.find((user) => user.id === id);
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
