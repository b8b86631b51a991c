import type { Approval } from '../api/v1alpha1/approval-request.ts';
import type { JudgedApproval } from './verdict.ts';

export interface Tally {
  /** Distinct people whose latest answer is Approve, in the order they answered. */
  readonly approvals: readonly Approval[];
  /** The first counted denial, if any: one approver's Deny denies the request. */
  readonly denial?: Approval;
  /** Entries that do not count, each with why. */
  readonly ignored: readonly { readonly approval: Approval; readonly why: string }[];
}

/**
 * Counts the answers that count for one escalating policy: only its approvers, never the requester
 * unless self-approval is allowed, and each person once (their latest answer wins).
 */
export function tally(
  answers: readonly JudgedApproval[],
  policy: { readonly name: string; readonly allowSelfApproval: boolean },
): Tally {
  const ignored: { approval: Approval; why: string }[] = [];
  const latest = new Map<string, JudgedApproval>();
  for (const answer of answers) {
    if (!answer.approverOf.has(policy.name)) {
      ignored.push({ approval: answer.approval, why: `not an approver of policy ${policy.name}` });
    } else if (answer.isRequester && !policy.allowSelfApproval) {
      ignored.push({ approval: answer.approval, why: 'the requester cannot approve their own request' });
    } else {
      latest.delete(answer.identity); // re-insert so the order is that of each person's latest answer
      latest.set(answer.identity, answer);
    }
  }
  const counted = [...latest.values()].map((answer) => answer.approval);
  const denial = counted.find((approval) => approval.decision === 'Deny');
  return {
    approvals: counted.filter((approval) => approval.decision === 'Approve'),
    ...(denial ? { denial } : {}),
    ignored,
  };
}
