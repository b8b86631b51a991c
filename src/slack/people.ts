import type { ApprovalPolicy } from '../api/v1alpha1/approval-policy.ts';
import type { AccessReviewer } from '../k8s/access-review.ts';
import { linkSlackUser, type HomeWorkspace, type SlackIdentityOptions, type SlackLink } from './identity.ts';
import type { SlackWeb } from './web.ts';

const GROUP_TTL_MS = 60_000;
const ACCOUNT_TTL_MS = 60_000;

/** Who a Slack user is to Greenlight, and for which policies they may answer. */
export interface SlackPeople {
  /** The Kubernetes user a Slack user is, or why they cannot answer (identity rules: docs/security.md). */
  link(slackUser: string): Promise<SlackLink>;
  /**
   * Whether the user may answer for the policy: listed in slackUsers, a member of one of its
   * slackUserGroups, or linked to a Kubernetes user listed in kubernetesUsers whom RBAC allows `approve`.
   */
  mayApprove(policy: ApprovalPolicy, slackUser: string, kubernetesUser: string | undefined): Promise<boolean>;
  /**
   * The Kubernetes user a Slack user who asked through intake is, for the requester rule: linked by a
   * SlackIdentity (bots' users too), or by their confirmed email under the email claim. Broader than
   * `link` on purpose: it can only refuse answers, never admit one.
   */
  askedAs(slackUser: string): Promise<string | undefined>;
}

interface Cached<T> {
  readonly value: T;
  readonly until: number;
}

export interface SlackDirectoryDeps {
  readonly web: SlackWeb;
  readonly access: AccessReviewer;
  /** spec.kubernetesUser of the SlackIdentity for a Slack user, read fresh (a removed link stops at once). */
  readonly linkedUser: (slackUser: string) => Promise<string | undefined>;
  readonly options: SlackIdentityOptions;
}

/** Answers from Slack's directory (accounts, user groups), cached briefly so a burst of clicks stays cheap. */
export class SlackDirectory implements SlackPeople {
  readonly #deps: SlackDirectoryDeps;
  readonly #groups = new Map<string, Cached<Promise<readonly string[]>>>();
  readonly #accounts = new Map<string, Cached<Promise<Awaited<ReturnType<SlackWeb['account']>>>>>();
  #home: Promise<HomeWorkspace> | undefined;

  constructor(deps: SlackDirectoryDeps) {
    this.#deps = deps;
  }

  async link(slackUser: string): Promise<SlackLink> {
    const { web, linkedUser, options } = this.#deps;
    const [account, linked, home] = await Promise.all([
      remember(this.#accounts, slackUser, ACCOUNT_TTL_MS, () => web.account(slackUser)),
      linkedUser(slackUser),
      this.#workspace(),
    ]);
    return linkSlackUser({ account, linkedUser: linked, home, options });
  }

  async mayApprove(
    policy: ApprovalPolicy,
    slackUser: string,
    kubernetesUser: string | undefined,
  ): Promise<boolean> {
    if (await this.#listedInSlack(policy, slackUser)) return true;
    return kubernetesUser !== undefined && (await this.#listedInKubernetes(policy, kubernetesUser));
  }

  async askedAs(slackUser: string): Promise<string | undefined> {
    const { web, linkedUser, options } = this.#deps;
    const linked = await linkedUser(slackUser);
    if (linked !== undefined || options.usernameClaim !== 'email') return linked;
    const account = await remember(this.#accounts, slackUser, ACCOUNT_TTL_MS, () => web.account(slackUser));
    return account.email && account.emailConfirmed
      ? `${options.usernamePrefix}${account.email.toLowerCase()}`
      : undefined;
  }

  /** The bot's own workspace never changes while the token lives; a failed lookup is asked again. */
  #workspace(): Promise<HomeWorkspace> {
    this.#home ??= this.#deps.web.home();
    this.#home.catch(() => {
      this.#home = undefined;
    });
    return this.#home;
  }

  async #listedInSlack(policy: ApprovalPolicy, slackUser: string): Promise<boolean> {
    const approvers = policy.spec.escalation?.approvers;
    if (approvers?.slackUsers?.includes(slackUser)) return true;
    for (const group of approvers?.slackUserGroups ?? []) {
      const members = await remember(this.#groups, group, GROUP_TTL_MS, () =>
        this.#deps.web.userGroupMembers(group),
      );
      if (members.includes(slackUser)) return true;
    }
    return false;
  }

  async #listedInKubernetes(policy: ApprovalPolicy, kubernetesUser: string): Promise<boolean> {
    if (!policy.spec.escalation?.approvers.kubernetesUsers?.includes(kubernetesUser)) return false;
    return this.#deps.access.mayApprove({
      user: kubernetesUser,
      namespace: policy.metadata.namespace ?? '',
      policy: policy.metadata.name ?? '',
    });
  }
}

function remember<T>(
  cache: Map<string, Cached<Promise<T>>>,
  key: string,
  ttlMs: number,
  load: () => Promise<T>,
): Promise<T> {
  const cached = cache.get(key);
  if (cached && cached.until > Date.now()) return cached.value;
  const value = load();
  cache.set(key, { value, until: Date.now() + ttlMs });
  // A failed lookup is not remembered: the next click asks Slack again.
  value.catch(() => cache.delete(key));
  return value;
}
