import type { PolicyMode, RuleDecision } from '../api/v1alpha1/approval-policy.ts';
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
  readonly trace: readonly Evaluation[];
}

/** A person's approval as the controller judged it (identity resolved, authorization checked). */
export interface JudgedApproval {
  readonly approval: Approval;
  /** The same person has the same identity whether they answered in Slack or with kubectl. */
  readonly identity: string;
  /** Policies whose approvers include this person. */
  readonly approverOf: ReadonlySet<string>;
  readonly isRequester: boolean;
}

export const DecidedBy = {
  policy: (policy: string, rule?: string): string => `policy:${policy}/${rule ?? 'default'}`,
  person: (approval: Approval): string =>
    approval.via === 'slack' ? `slack:${approval.approver}` : `user:${approval.approver}`,
  timeout: 'timeout',
  controller: 'controller',
} as const;
