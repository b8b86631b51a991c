import type { Approval } from '../api/v1alpha1/approval-request.ts';
import { byCodeUnits } from '../compare.ts';
import { describeAnswerer } from './person.ts';
import type { WaitingOn } from './progress.ts';
import type { Tally } from './tally.ts';
import { DecidedBy, type JudgedApproval, type PolicyVerdict } from './verdict.ts';

/** The combined answer of every policy that selects a request. */
export type Combined =
  | {
      readonly kind: 'Decided';
      readonly outcome: 'Approved' | 'Denied';
      readonly decidedBy: string;
      readonly reason: string;
      /** For a decision by people: where each escalating policy stood. */
      readonly waitingOn?: readonly WaitingOn[];
    }
  | { readonly kind: 'Escalated'; readonly waitingOn: readonly WaitingOn[]; readonly reason: string }
  | { readonly kind: 'Pending'; readonly reason: string };

const decided = (
  outcome: 'Approved' | 'Denied',
  decidedBy: string,
  reason: string,
  waitingOn?: readonly WaitingOn[],
): Combined => ({ kind: 'Decided', outcome, decidedBy, reason, ...(waitingOn ? { waitingOn } : {}) });

/**
 * The contract's combination: any Deny wins; otherwise any Escalate waits for people (approved once
 * every escalating policy has its approvals, denied by any of its approvers' Deny); otherwise any
 * Hold stays Pending; otherwise all approve. DryRun verdicts never count. No enforcing policy at all
 * is a denial by the controller.
 */
export function combine(verdicts: readonly PolicyVerdict[], tallyFor: (policy: string) => Tally): Combined {
  const enforcing = [...verdicts]
    .filter((v) => v.mode === 'Enforce')
    .sort((a, b) => byCodeUnits(a.policy, b.policy));
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
  const waitingOn = tallies.map(({ verdict, tally }) => ({
    policy: verdict.policy,
    approvals: tally.approvals.length,
    required: verdict.requiredApprovals,
    approvers: verdict.approvers,
  }));
  const denial = firstArrived(tallies.map((t) => t.tally.denial));
  if (denial) {
    const { approval } = denial;
    const reason = withComment(`denied by ${describeAnswerer(approval)}`, approval);
    return decided('Denied', DecidedBy.person(approval), reason, waitingOn);
  }
  if (waitingOn.every((w) => w.approvals >= w.required)) {
    // Whoever's answer arrived last among those that completed a quorum decided (by arrival, never by a
    // time a client wrote).
    const last = lastArrived(
      tallies.map(({ verdict, tally }) => tally.approvals[verdict.requiredApprovals - 1]),
    );
    if (last) {
      const names = distinctApprovers(tallies.map(({ tally }) => tally))
        .map(describeAnswerer)
        .join(', ');
      const reason = withComment(`approved by ${names}`, last.approval);
      return decided('Approved', DecidedBy.person(last.approval), reason, waitingOn);
    }
  }
  const reason = escalating.map((v) => `${v.policy}: ${v.message}`).join('; ');
  return { kind: 'Escalated', waitingOn, reason };
}

/** Each person whose approval counted, once, in the order they first answered. */
function distinctApprovers(tallies: readonly Tally[]): Approval[] {
  const byPerson = new Map<string, Approval>();
  for (const counted of tallies.flatMap((tally) => tally.approvals).sort((a, b) => a.index - b.index)) {
    const key = counted.person ?? counted.approval.approver;
    if (!byPerson.has(key)) byPerson.set(key, counted.approval);
  }
  return [...byPerson.values()];
}

function firstArrived(answers: readonly (JudgedApproval | undefined)[]): JudgedApproval | undefined {
  return answers
    .filter((a): a is JudgedApproval => a !== undefined)
    .reduce<JudgedApproval | undefined>(
      (first, a) => (first === undefined || a.index < first.index ? a : first),
      undefined,
    );
}

function lastArrived(answers: readonly (JudgedApproval | undefined)[]): JudgedApproval | undefined {
  return answers
    .filter((a): a is JudgedApproval => a !== undefined)
    .reduce<JudgedApproval | undefined>(
      (last, a) => (last === undefined || a.index > last.index ? a : last),
      undefined,
    );
}

function withComment(text: string, approval: Approval): string {
  return approval.comment ? `${text}: ${approval.comment}` : text;
}
