import type { ApprovalRequest, ApprovalRequestStatus, Phase } from '../../api/v1alpha1/approval-request.ts';
import type { Resolution } from '../../policy/decide.ts';
import { setConditions, type DesiredCondition } from '../conditions.ts';

const bool = (value: boolean): 'True' | 'False' => (value ? 'True' : 'False');

function escalatedMessage(resolution: Resolution): string {
  const waiting = resolution.waitingOn.map(
    (w) => `${w.approvals} of ${w.required} approvals for policy ${w.policy}`,
  );
  const ignored = resolution.ignoredApprovals.map((i) => `${i.approval.approver} (${i.why})`);
  const parts = [
    waiting.length > 0 ? `waiting for ${waiting.join(', ')}` : '',
    ignored.length > 0 ? `ignored: ${ignored.join(', ')}` : '',
  ].filter(Boolean);
  return parts.length > 0 ? parts.join('; ') : resolution.reason;
}

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
    ...(resolution.decision ? { decision: { ...resolution.decision, decidedAt: now.toISOString() } } : {}),
    evaluations: [...resolution.evaluations],
    ...(current.approvals
      ? { approvals: current.approvals, observedApprovals: current.approvals.length }
      : {}),
    ...(current.slack ? { slack: current.slack } : {}),
    ...(current.webhooks ? { webhooks: current.webhooks } : {}),
    ...(resolution.expiresAt ? { expiresAt: resolution.expiresAt.toISOString() } : {}),
    observedGeneration: generation,
    conditions: setConditions(current.conditions, conditionsFor(phase, resolution), generation, now),
  };
}

/** Whether writing `next` would change anything (ignoring key order). */
export function statusChanged(
  current: ApprovalRequestStatus | undefined,
  next: ApprovalRequestStatus,
): boolean {
  return canonical(current ?? {}) !== canonical(next);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => a.localeCompare(b)))
      : inner,
  );
}
