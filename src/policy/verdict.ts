import type { Approvers, PolicyMode, RuleDecision } from '../api/v1alpha1/approval-policy.ts';
import type { Approval, Evaluation } from '../api/v1alpha1/approval-request.ts';

/** What one policy says about one request, with the why-trace entries it contributes. */
export interface PolicyVerdict {
  readonly policy: string;
  readonly mode: PolicyMode;
  readonly decision: RuleDecision;
  /** The rule that decided; absent when the default decision applied (or the policy is invalid). */
  readonly rule?: string;
  readonly message: string;
  readonly requiredApprovals: number;
  /** escalation.approvers, when the policy has an escalation. */
  readonly approvers?: Approvers | undefined;
  readonly trace: readonly Evaluation[];
}

/** A person's answer as the controller judged it (identity related, authorization checked). */
export interface JudgedApproval {
  readonly approval: Approval;
  /** Its position in status.approvals, an append-only list: the order the API server accepted answers in. */
  readonly index: number;
  /**
   * The person, as a canonical Kubernetes username (personOf): the same whether they answered in Slack
   * or with kubectl. Undefined for a Slack user not linked to a Kubernetes user.
   */
  readonly person: string | undefined;
  /** Policies whose approvers include this person, their authorization checked. */
  readonly approverOf: ReadonlySet<string>;
}

export const DecidedBy = {
  policy: (policy: string, rule?: string): string => `policy:${policy}/${rule ?? 'default'}`,
  person: (approval: Approval): string =>
    approval.via === 'slack' ? `slack:${approval.approver}` : `user:${approval.approver}`,
  timeout: 'timeout',
  controller: 'controller',
} as const;
