import type { Approval } from '../api/v1alpha1/approval-request.ts';
import type { Tally } from './tally.ts';
import { DecidedBy, type PolicyVerdict } from './verdict.ts';

export interface WaitingOn {
  readonly policy: string;
  readonly approvals: number;
  readonly required: number;
}

/** The combined answer of every policy that selects a request. */
export type Combined =
  | {
      readonly kind: 'Decided';
      readonly outcome: 'Approved' | 'Denied';
      readonly decidedBy: string;
      readonly reason: string;
    }
  | { readonly kind: 'Escalated'; readonly waitingOn: readonly WaitingOn[]; readonly reason: string }
  | { readonly kind: 'Pending'; readonly reason: string };

const decided = (outcome: 'Approved' | 'Denied', decidedBy: string, reason: string): Combined => ({
  kind: 'Decided',
  outcome,
  decidedBy,
  reason,
});

/**
 * The contract's combination: any Deny wins; otherwise any Escalate waits for people (approved once
 * every escalating policy has its approvals, denied by any of its approvers' Deny); otherwise any
 * Hold stays Pending; otherwise all approve. DryRun verdicts never count. No enforcing policy at all
 * is a denial by the controller.
 */
export function combine(verdicts: readonly PolicyVerdict[], tallyFor: (policy: string) => Tally): Combined {
  const enforcing = [...verdicts]
    .filter((v) => v.mode === 'Enforce')
    .sort((a, b) => a.policy.localeCompare(b.policy));
  if (enforcing.length === 0) {
    return decided('Denied', DecidedBy.controller, 'no ApprovalPolicy in Enforce mode selects this request');
  }
  const deny = enforcing.find((v) => v.decision === 'Deny');
  if (deny) return decided('Denied', DecidedBy.policy(deny.policy, deny.rule), deny.message);

  const escalating = enforcing.filter((v) => v.decision === 'Escalate');
  if (escalating.length > 0) return combineEscalation(escalating, tallyFor);

  const hold = enforcing.find((v) => v.decision === 'Hold');
  if (hold) return { kind: 'Pending', reason: `held by policy ${hold.policy}: ${hold.message}` };

  const [first] = enforcing as [PolicyVerdict, ...PolicyVerdict[]];
  const reason = enforcing.map((v) => `${v.policy}: ${v.message}`).join('; ');
  return decided('Approved', DecidedBy.policy(first.policy, first.rule), reason);
}

function combineEscalation(
  escalating: readonly PolicyVerdict[],
  tallyFor: (policy: string) => Tally,
): Combined {
  const tallies = escalating.map((verdict) => ({ verdict, tally: tallyFor(verdict.policy) }));
  const denial = tallies.map((t) => t.tally.denial).find((d): d is Approval => d !== undefined);
  if (denial) {
    return decided('Denied', DecidedBy.person(denial), withComment(`denied by ${denial.approver}`, denial));
  }
  const waitingOn = tallies.map(({ verdict, tally }) => ({
    policy: verdict.policy,
    approvals: tally.approvals.length,
    required: verdict.requiredApprovals,
  }));
  if (waitingOn.every((w) => w.approvals >= w.required)) {
    // The person whose answer completed the last missing approval decided.
    const last = tallies
      .map(({ verdict, tally }) => tally.approvals[verdict.requiredApprovals - 1])
      .filter((a): a is Approval => a !== undefined)
      .sort((a, b) => a.at.localeCompare(b.at))
      .at(-1);
    if (last) {
      const approvers = [...new Set(tallies.flatMap(({ tally }) => tally.approvals.map((a) => a.approver)))];
      return decided(
        'Approved',
        DecidedBy.person(last),
        withComment(`approved by ${approvers.join(', ')}`, last),
      );
    }
  }
  const reason = escalating.map((v) => `${v.policy}: ${v.message}`).join('; ');
  return { kind: 'Escalated', waitingOn, reason };
}

function withComment(text: string, approval: Approval): string {
  return approval.comment ? `${text}: ${approval.comment}` : text;
}
