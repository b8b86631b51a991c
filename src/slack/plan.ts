import { NotifyOn, type ApprovalPolicy } from '../api/v1alpha1/approval-policy.ts';
import { isFinal, type Approval, type ApprovalRequest } from '../api/v1alpha1/approval-request.ts';
import { askingThread } from './intake.ts';
import { STATE_REACTIONS, type IntakeStage, type ShownState, type SlackMessage } from './messages.ts';
import type { Metadata } from './web.ts';

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
      /**
       * Update the message if the channel shows one, never post it: the request was decided without
       * a tracking message on record (a predecessor may have posted one and lost the lease before
       * recording it; its buttons would stay).
       */
      readonly ifPosted?: true;
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
    }
  | {
      /** A Slack-born request's answer in its asking message's thread, one per stage. */
      readonly kind: 'intake-reply';
      readonly key: string;
      readonly channel: string;
      readonly uid: string;
      readonly threadTs: string;
      readonly stage: IntakeStage;
    }
  | {
      /** The reaction on the asking message that shows the state; those of earlier states come off. */
      readonly kind: 'reaction';
      readonly key: string;
      readonly channel: string;
      readonly uid: string;
      readonly ts: string;
      readonly add: string;
      readonly remove: readonly string[];
    }
  | {
      /** The reply to a message Slack intake did not take (no request exists; `uid` names the message). */
      readonly kind: 'refusal';
      readonly key: string;
      readonly channel: string;
      readonly uid: string;
      readonly threadTs: string;
      readonly message: SlackMessage;
      readonly metadata: Metadata;
    };

/** The key of a Slack-born request's reply at one stage. */
export const intakeReplyKey = (uid: string, stage: IntakeStage): string => `${uid}/intake/${stage}`;

/** What stands for a refused message's uid in the outbox's keys: its channel and ts (no slash). */
export const refusalUid = (channel: string, ts: string): string => `refused:${channel}:${ts}`;
export const refusalKey = (channel: string, ts: string): string => `${refusalUid(channel, ts)}/refusal`;

/** What reaction each state shows, and the earlier states' reactions it replaces. */
const EARLIER: Readonly<Record<ShownState, readonly ShownState[]>> = {
  Pending: [],
  Escalated: ['Pending'],
  Approved: ['Pending', 'Escalated'],
  Denied: ['Pending', 'Escalated'],
  Expired: ['Pending', 'Escalated'],
  Refused: [],
};

export function reactionIntent(
  uid: string,
  where: { readonly channel: string; readonly ts: string },
  state: ShownState,
): SlackIntent {
  return {
    kind: 'reaction',
    key: `${uid}/reaction/${state}`,
    channel: where.channel,
    uid,
    ts: where.ts,
    add: STATE_REACTIONS[state],
    remove: EARLIER[state].map((earlier) => STATE_REACTIONS[earlier]),
  };
}

/** A Slack-born request: its state on the asking message, and a reply for the stage it is at. */
function intakeIntents(request: ApprovalRequest, uid: string): SlackIntent[] {
  const asking = askingThread(request);
  const phase = request.status?.phase;
  if (!asking || !phase) return [];
  const stage: IntakeStage = isFinal(phase) ? 'Decided' : phase === 'Escalated' ? 'Escalated' : 'Pending';
  return [
    reactionIntent(uid, asking, phase),
    {
      kind: 'intake-reply',
      key: intakeReplyKey(uid, stage),
      channel: asking.channel,
      uid,
      threadTs: asking.threadTs,
      stage,
    },
  ];
}

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

/**
 * A decided request with no tracking message on record: if it waited for people, a predecessor may
 * have posted one and lost the lease before recording it. Updated if the channel shows it.
 */
function unrecordedTracking(request: ApprovalRequest, policies: PolicyLookup, uid: string): SlackIntent[] {
  const channel = wasEscalated(request) ? escalationChannel(request, policies) : undefined;
  return channel ? [{ kind: 'tracking', key: trackingKey(uid), channel, uid, ifPosted: true }] : [];
}

function trackingIntents(request: ApprovalRequest, policies: PolicyLookup, uid: string): SlackIntent[] {
  const tracked = request.status?.slack;
  const phase = request.status?.phase;
  if (!tracked && isFinal(phase)) return unrecordedTracking(request, policies, uid);
  const channel =
    tracked?.channel ?? (phase === 'Escalated' ? escalationChannel(request, policies) : undefined);
  if (!channel) return [];
  return [
    { kind: 'tracking', key: trackingKey(uid), channel, uid },
    ...progressIntents(request, channel, uid),
  ];
}

/** A reply in the tracking message's thread for each answer counted (one for a multi-policy answer). */
function progressIntents(request: ApprovalRequest, channel: string, uid: string): SlackIntent[] {
  const intents: SlackIntent[] = [];
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
  const escalated = wasEscalated(request);
  for (const policy of consulted(request, policies)) {
    for (const intent of policyAnnouncements(policy, { uid, outcome, escalated })) add(intent);
  }
  return intents;
}

/**
 * One policy's announcements of an outcome. One message per request per channel: the "Escalated"
 * announcement, when there was one, is updated to the outcome in place instead of a second message
 * saying it again.
 */
function policyAnnouncements(
  policy: ApprovalPolicy,
  { uid, outcome, escalated }: { uid: string; outcome: NotifyOn; escalated: boolean },
): SlackIntent[] {
  const notify = policy.spec.notify;
  if (!notify?.slack) return [];
  const on = notify.on?.length ? notify.on : Object.values(NotifyOn);
  const channel = notify.slack.channel;
  if (outcome !== 'Escalated' && escalated && on.includes('Escalated')) {
    const updates = `${uid}/announce/Escalated/${channel}`;
    return [{ kind: 'announcement-update', key: `${updates}/decided`, channel, uid, updates }];
  }
  return on.includes(outcome)
    ? [{ kind: 'announcement', key: `${uid}/announce/${outcome}/${channel}`, channel, uid, outcome }]
    : [];
}

/** Whether the request waited for people (and so had an "Escalated" announcement to update). */
function wasEscalated(request: ApprovalRequest): boolean {
  return (request.status?.evaluations ?? []).some((e) => e.result === 'Escalate' && !e.dryRun);
}

/**
 * Everything Slack should show about the request now. Pure. `announce: false` leaves out the
 * escalation and the announcements (a decision too old to announce), keeping the answer a Slack-born
 * request owes the machine that asked.
 */
export function planSlack(
  request: ApprovalRequest,
  policies: PolicyLookup,
  { announce = true }: { readonly announce?: boolean } = {},
): SlackIntent[] {
  const uid = request.metadata.uid;
  if (!uid) return [];
  return [
    ...intakeIntents(request, uid),
    ...(announce
      ? [...trackingIntents(request, policies, uid), ...announcementIntents(request, policies, uid)]
      : []),
  ];
}
