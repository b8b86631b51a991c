import { NotifyOn, type ApprovalPolicy } from '../api/v1alpha1/approval-policy.ts';
import { isFinal, type Approval, type ApprovalRequest } from '../api/v1alpha1/approval-request.ts';

/**
 * What Slack should show about one request, derived from its Kubernetes status alone (the source
 * of truth). Each intent has a stable key: the outbox does each one once, and after a restart finds
 * what was already posted through the key Greenlight stores in each message's metadata.
 */
export type SlackIntent =
  | {
      /** The message that tracks an escalated request; updated in place as it progresses and is decided. */
      readonly kind: 'tracking';
      readonly key: string;
      readonly channel: string;
      readonly uid: string;
    }
  | {
      /** A reply in the tracking message's thread for one person's answer. */
      readonly kind: 'progress';
      readonly key: string;
      readonly channel: string;
      readonly uid: string;
      readonly index: number;
    }
  | {
      /** Once decided, the earlier "Escalated" announcement is updated to say how it ended. */
      readonly kind: 'announcement-update';
      readonly key: string;
      readonly channel: string;
      readonly uid: string;
      /** The key of the announcement to update. */
      readonly updates: string;
    }
  | {
      /** An announcement of one outcome to a policy's notify channel. */
      readonly kind: 'announcement';
      readonly key: string;
      readonly channel: string;
      readonly uid: string;
      readonly outcome: NotifyOn;
    };

export const trackingKey = (uid: string): string => `${uid}/tracking`;

/** Policies by name, as consulted for this request (its why-trace names them). */
export type PolicyLookup = (name: string) => ApprovalPolicy | undefined;

function consulted(request: ApprovalRequest, policies: PolicyLookup): ApprovalPolicy[] {
  const names = [
    ...new Set((request.status?.evaluations ?? []).filter((e) => !e.dryRun).map((e) => e.policy)),
  ].sort();
  return names.map(policies).filter((policy): policy is ApprovalPolicy => policy !== undefined);
}

/** Where the tracking message goes: the first escalating policy (by name) with a Slack channel. */
export function escalationChannel(request: ApprovalRequest, policies: PolicyLookup): string | undefined {
  const escalating = new Set(
    (request.status?.evaluations ?? [])
      .filter((e) => e.result === 'Escalate' && !e.dryRun)
      .map((e) => e.policy),
  );
  return consulted(request, policies).find((policy) => escalating.has(policy.metadata.name ?? ''))?.spec
    .escalation?.slack?.channel;
}

/** Only answers the controller has counted get a reply: it says where the request stands after each. */
function countedAnswers(request: ApprovalRequest): number {
  return Math.min(request.status?.observedApprovals ?? 0, request.status?.approvals?.length ?? 0);
}

/**
 * A person's answer is one entry per policy it answers, appended together: one reply stands for all
 * of them.
 */
function continuesAnswer(approvals: readonly Approval[], index: number): boolean {
  const previous = approvals[index - 1];
  const current = approvals[index];
  return (
    current !== undefined &&
    previous?.approver === current.approver &&
    previous.via === current.via &&
    previous.decision === current.decision
  );
}

function trackingIntents(request: ApprovalRequest, policies: PolicyLookup, uid: string): SlackIntent[] {
  const tracked = request.status?.slack;
  const escalated = request.status?.phase === 'Escalated';
  const channel = tracked?.channel ?? (escalated ? escalationChannel(request, policies) : undefined);
  if (!channel) return [];
  const intents: SlackIntent[] = [{ kind: 'tracking', key: trackingKey(uid), channel, uid }];
  const approvals = request.status?.approvals ?? [];
  for (let index = 0; index < countedAnswers(request); index++) {
    if (continuesAnswer(approvals, index)) continue;
    intents.push({ kind: 'progress', key: `${uid}/answer/${index}`, channel, uid, index });
  }
  return intents;
}

function announcementIntents(request: ApprovalRequest, policies: PolicyLookup, uid: string): SlackIntent[] {
  const phase = request.status?.phase;
  const outcome = phase === 'Escalated' || isFinal(phase) ? (phase as NotifyOn) : undefined;
  if (!outcome) return [];
  const intents: SlackIntent[] = [];
  const add = (intent: SlackIntent): void => {
    if (!intents.some((known) => known.key === intent.key)) intents.push(intent);
  };
  for (const policy of consulted(request, policies)) {
    const notify = policy.spec.notify;
    if (!notify?.slack) continue;
    const on = notify.on?.length ? notify.on : Object.values(NotifyOn);
    const channel = notify.slack.channel;
    if (on.includes(outcome))
      add({ kind: 'announcement', key: `${uid}/announce/${outcome}/${channel}`, channel, uid, outcome });
    if (outcome !== 'Escalated' && on.includes('Escalated')) {
      const updates = `${uid}/announce/Escalated/${channel}`;
      add({ kind: 'announcement-update', key: `${updates}/decided`, channel, uid, updates });
    }
  }
  return intents;
}

/** Everything Slack should show about the request now. Pure. */
export function planSlack(request: ApprovalRequest, policies: PolicyLookup): SlackIntent[] {
  const uid = request.metadata.uid;
  if (!uid) return [];
  return [...trackingIntents(request, policies, uid), ...announcementIntents(request, policies, uid)];
}
