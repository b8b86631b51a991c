import type { ApprovalRequest, ApprovalRequestStatus, Phase } from '../../api/v1alpha1/approval-request.ts';
import { rfc3339 } from '../../api/v1alpha1/schema.ts';
import { byCodeUnits } from '../../compare.ts';
import type { Resolution } from '../../policy/decide.ts';
import { approvalProgress, escalatedMessage } from '../../policy/progress.ts';
import { setConditions, type DesiredCondition } from '../conditions.ts';

const bool = (value: boolean): 'True' | 'False' => (value ? 'True' : 'False');

/** A condition that is True exactly in some phases, with the resolution's reason while True. */
function phaseCondition(
  type: string,
  phase: Phase,
  truePhases: readonly Phase[],
  reasons: { readonly whenFalse: string; readonly message: string },
): DesiredCondition {
  const holds = truePhases.includes(phase);
  return {
    type,
    status: bool(holds),
    reason: holds ? phase : reasons.whenFalse,
    message: holds ? reasons.message : `the request is ${phase}`,
  };
}

function conditionsFor(phase: Phase, resolution: Resolution): DesiredCondition[] {
  const final = resolution.decision !== undefined;
  return [
    { type: 'Decided', status: bool(final), reason: phase, message: resolution.reason },
    phaseCondition('Approved', phase, ['Approved'], { whenFalse: 'NotApproved', message: resolution.reason }),
    phaseCondition('Denied', phase, ['Denied', 'Expired'], {
      whenFalse: 'NotDenied',
      message: resolution.reason,
    }),
    {
      ...phaseCondition('Escalated', phase, ['Escalated'], {
        whenFalse: final ? 'Decided' : 'NotEscalated',
        message: escalatedMessage(resolution),
      }),
      ...(phase === 'Escalated' ? { reason: 'WaitingForPeople' } : {}),
    },
    ...kstatusConditions(phase, resolution),
  ];
}

/**
 * The conditions GitOps tools read (the kstatus conventions of Flux, cli-utils and `kubectl wait`):
 * Reconciling while undecided, so a request that waits reads InProgress; Stalled once Denied or
 * Expired, so it reads Failed; Ready once Approved, so it reads Current and a gate opens then only.
 */
function kstatusConditions(phase: Phase, resolution: Resolution): DesiredCondition[] {
  const final = resolution.decision !== undefined;
  const refused = phase === 'Denied' || phase === 'Expired';
  const outcome = `${phase}: ${resolution.reason}`;
  const progress = phase === 'Escalated' ? `Escalated: ${escalatedMessage(resolution)}` : outcome;
  return [
    {
      type: 'Ready',
      status: bool(phase === 'Approved'),
      reason: phase,
      message: final ? outcome : `not approved yet; ${progress}`,
    },
    {
      type: 'Reconciling',
      status: bool(!final),
      reason: final ? 'Decided' : phase,
      message: final ? `decided: ${outcome}` : progress,
    },
    {
      type: 'Stalled',
      status: bool(refused),
      reason: refused ? phase : 'NotStalled',
      message: refused ? outcome : `the request is ${phase}`,
    },
  ];
}

/**
 * The status a request should have after `resolution`, computed from the current one: the decision is
 * stamped with `now` once, people's approvals and the Slack thread are kept as they are.
 */
export function nextStatus(
  request: ApprovalRequest,
  resolution: Resolution,
  now: Date,
): ApprovalRequestStatus {
  const current = request.status ?? {};
  const generation = request.metadata.generation ?? 1;
  const { phase } = resolution;
  return {
    phase,
    ...(resolution.decision ? { decision: { ...resolution.decision, decidedAt: rfc3339(now) } } : {}),
    evaluations: [...resolution.evaluations],
    ...(current.approvals
      ? { approvals: current.approvals, observedApprovals: current.approvals.length }
      : {}),
    ...(current.slack ? { slack: current.slack } : {}),
    ...(current.webhooks ? { webhooks: current.webhooks } : {}),
    ...progressOf(resolution, current),
    ...(resolution.expiresAt ? { expiresAt: rfc3339(resolution.expiresAt) } : {}),
    observedGeneration: generation,
    conditions: setConditions(current.conditions, conditionsFor(phase, resolution), generation, now),
  };
}

/** "1/2" while people are asked, and the final count once they decided; kept as it was otherwise. */
function progressOf(
  resolution: Resolution,
  current: ApprovalRequestStatus,
): Pick<ApprovalRequestStatus, 'approvalProgress'> {
  const progress = approvalProgress(resolution.waitingOn) ?? current.approvalProgress;
  return progress === undefined ? {} : { approvalProgress: progress };
}

/** Whether writing `next` would change anything (ignoring key order). */
export function statusChanged(
  current: ApprovalRequestStatus | undefined,
  next: ApprovalRequestStatus,
): boolean {
  // A new phase is a change; only a request that stays in its phase needs the full comparison.
  if (current?.phase !== next.phase) return true;
  return canonical(current) !== canonical(next);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => byCodeUnits(a, b)))
      : inner,
  );
}
