import type { ApprovalPolicy } from '../api/v1alpha1/approval-policy.ts';
import type { AccessReviewer } from '../k8s/access-review.ts';
import type { SlackWeb } from './web.ts';

const GROUP_TTL_MS = 60_000;
const EMAIL_TTL_MS = 10 * 60_000;

/** Who a Slack user is to Greenlight, and for which policies they may answer. */
export interface SlackPeople {
  /** The Kubernetes username a Slack user maps to (their email), when Slack knows it. */
  kubernetesUser(slackUser: string): Promise<string | undefined>;
  /**
   * Whether the user may answer for the policy: listed in slackUsers, a member of one of its
   * slackUserGroups, or their email is a listed Kubernetes user whom RBAC allows `approve`.
   */
  mayApprove(policy: ApprovalPolicy, slackUser: string): Promise<boolean>;
}

interface Cached<T> {
  readonly value: T;
  readonly until: number;
}

/** Answers from Slack's directory (user groups, emails), cached briefly so a burst of clicks stays cheap. */
export class SlackDirectory implements SlackPeople {
  readonly #web: SlackWeb;
  readonly #access: AccessReviewer;
  readonly #groups = new Map<string, Cached<Promise<readonly string[]>>>();
  readonly #emails = new Map<string, Cached<Promise<string | undefined>>>();

  constructor(web: SlackWeb, access: AccessReviewer) {
    this.#web = web;
    this.#access = access;
  }

  kubernetesUser(slackUser: string): Promise<string | undefined> {
    return remember(this.#emails, slackUser, EMAIL_TTL_MS, () => this.#web.userEmail(slackUser));
  }

  async mayApprove(policy: ApprovalPolicy, slackUser: string): Promise<boolean> {
    return (await this.#listedInSlack(policy, slackUser)) || this.#listedInKubernetes(policy, slackUser);
  }

  async #listedInSlack(policy: ApprovalPolicy, slackUser: string): Promise<boolean> {
    const approvers = policy.spec.escalation?.approvers;
    if (approvers?.slackUsers?.includes(slackUser)) return true;
    for (const group of approvers?.slackUserGroups ?? []) {
      const members = await remember(this.#groups, group, GROUP_TTL_MS, () =>
        this.#web.userGroupMembers(group),
      );
      if (members.includes(slackUser)) return true;
    }
    return false;
  }

  async #listedInKubernetes(policy: ApprovalPolicy, slackUser: string): Promise<boolean> {
    const user = await this.kubernetesUser(slackUser);
    if (!user || !policy.spec.escalation?.approvers.kubernetesUsers?.includes(user)) return false;
    return this.#access.mayApprove({
      user,
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
