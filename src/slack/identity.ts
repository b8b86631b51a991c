/**
 * Who a Slack user is to Kubernetes, decided from facts alone (pure): their Slack account as
 * `users.info` describes it, the SlackIdentity that links them (if any), and how the controller is
 * configured. An answer from a Slack user who cannot be linked never counts: without a Kubernetes
 * user it cannot be told apart from the requester or from another approver (fail closed).
 */

export const UsernameClaims = ['email', 'none'] as const;
export type UsernameClaim = (typeof UsernameClaims)[number];

export interface SlackIdentityOptions {
  /**
   * How a Slack user without a SlackIdentity becomes a Kubernetes user: `email` (their confirmed email,
   * in lower case, after `usernamePrefix`) when the cluster's usernames are emails, or `none` (only
   * SlackIdentity objects link people; the default).
   */
  readonly usernameClaim: UsernameClaim;
  /** Put before the email, like the API server's --oidc-username-prefix (for example `oidc:`). */
  readonly usernamePrefix: string;
  /** Other workspaces (T…) or Enterprise Grid organisations (E…) whose members may answer. */
  readonly allowedTeams: readonly string[];
  /** Whether guests (multi- and single-channel guests) may answer. */
  readonly allowGuests: boolean;
}

export const DEFAULT_IDENTITY_OPTIONS: SlackIdentityOptions = {
  usernameClaim: 'none',
  usernamePrefix: '',
  allowedTeams: [],
  allowGuests: false,
};

/** What Greenlight needs of a Slack account (users.info). */
export interface SlackAccount {
  readonly id: string;
  readonly teamId: string | undefined;
  readonly enterpriseId: string | undefined;
  readonly deleted: boolean;
  /** A bot user or an app user: not a person. */
  readonly bot: boolean;
  /** is_restricted or is_ultra_restricted. */
  readonly guest: boolean;
  readonly email: string | undefined;
  readonly emailConfirmed: boolean;
}

/** The workspace Greenlight's bot token belongs to (auth.test). */
export interface HomeWorkspace {
  readonly teamId: string;
  readonly enterpriseId: string | undefined;
}

export type SlackLink =
  | { readonly linked: true; readonly kubernetesUser: string; readonly by: 'SlackIdentity' | 'email' }
  | { readonly linked: false; readonly why: string };

export function linkSlackUser(facts: {
  readonly account: SlackAccount;
  /** spec.kubernetesUser of the Slack user's SlackIdentity, when there is one. */
  readonly linkedUser: string | undefined;
  readonly home: HomeWorkspace;
  readonly options: SlackIdentityOptions;
}): SlackLink {
  const { account, linkedUser, home, options } = facts;
  const refused = accountRefusal(account, home, options);
  if (refused !== undefined) return { linked: false, why: refused };
  if (linkedUser !== undefined) return { linked: true, kubernetesUser: linkedUser, by: 'SlackIdentity' };
  if (options.usernameClaim === 'none') {
    return {
      linked: false,
      why:
        'your Slack account is not linked to a Kubernetes user, so your answer cannot be told apart from the ' +
        'requester’s or another approver’s. Ask your platform team to link it (a SlackIdentity), or answer ' +
        'with `greenlight approve`',
    };
  }
  if (account.email === undefined || account.email === '') {
    return {
      linked: false,
      why: 'Slack shows no email for your account and no SlackIdentity links it to a Kubernetes user',
    };
  }
  if (!account.emailConfirmed) {
    return {
      linked: false,
      why: 'your Slack email is not confirmed, so it cannot stand for your Kubernetes user',
    };
  }
  return {
    linked: true,
    kubernetesUser: `${options.usernamePrefix}${account.email.toLowerCase()}`,
    by: 'email',
  };
}

function accountRefusal(
  account: SlackAccount,
  home: HomeWorkspace,
  options: SlackIdentityOptions,
): string | undefined {
  if (account.deleted) return 'your Slack account is deactivated';
  if (account.bot) return 'bots and apps cannot answer approvals: a person has to';
  const members = new Set([
    home.teamId,
    ...(home.enterpriseId ? [home.enterpriseId] : []),
    ...options.allowedTeams,
  ]);
  const belongs =
    (account.teamId !== undefined && members.has(account.teamId)) ||
    (account.enterpriseId !== undefined && members.has(account.enterpriseId));
  if (!belongs) {
    return 'your account belongs to another Slack workspace (Slack Connect): only members of this workspace may answer';
  }
  if (account.guest && !options.allowGuests) return 'guest accounts cannot answer approvals';
  return undefined;
}
