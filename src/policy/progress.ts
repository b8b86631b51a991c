import type { Approvers } from '../api/v1alpha1/approval-policy.ts';
import type { Approval } from '../api/v1alpha1/approval-request.ts';
import { describeAnswerer } from './person.ts';

/** How far one escalating policy is from its quorum. */
export interface WaitingOn {
  readonly policy: string;
  /** Approvals counted so far. */
  readonly approvals: number;
  readonly required: number;
  /** Who may answer (escalation.approvers), to tell people whom to ask. */
  readonly approvers?: Approvers | undefined;
}

const MAX_NAMED = 8;

/**
 * Who may approve, in words: "group approvers, Slack group S0APPROVERS, user alice". The same text
 * in the request's condition, its events, `greenlight explain` and `greenlight test`.
 */
export function describeApprovers(approvers: Approvers): string {
  const named = [
    ...(approvers.kubernetesUsers ?? []).map((user) => `user ${user}`),
    ...(approvers.kubernetesGroups ?? []).map((group) => `group ${group}`),
    ...(approvers.slackUsers ?? []).map((user) => `Slack user ${user}`),
    ...(approvers.slackUserGroups ?? []).map((group) => `Slack group ${group}`),
  ];
  const more = named.length - MAX_NAMED;
  return more > 0 ? `${named.slice(0, MAX_NAMED).join(', ')} and ${more} more` : named.join(', ');
}

/** "1 of 2 approvals given for policy payments (approvers: group approvers)". */
export function describeProgress(waiting: WaitingOn): string {
  const who = waiting.approvers ? describeApprovers(waiting.approvers) : '';
  return (
    `${waiting.approvals} of ${waiting.required} approvals given for policy ${waiting.policy}` +
    (who ? ` (approvers: ${who})` : '')
  );
}

/** Every escalating policy's progress, in one line. */
export function describeWaiting(waitingOn: readonly WaitingOn[]): string {
  return waitingOn.map(describeProgress).join('; ');
}

/**
 * The request's progress at a glance ("1/2"), for `kubectl get apr -o wide`: the approvals that count
 * toward the quorums (at most each policy's required number) over all that are required.
 */
export function approvalProgress(waitingOn: readonly WaitingOn[]): string | undefined {
  if (waitingOn.length === 0) return undefined;
  const given = waitingOn.reduce((sum, w) => sum + Math.min(w.approvals, w.required), 0);
  const required = waitingOn.reduce((sum, w) => sum + w.required, 0);
  return `${given}/${required}`;
}

/**
 * The Escalated condition's message, and what `greenlight test` shows for an escalated case: "1 of 2
 * approvals given for policy payments (approvers: group approvers); ignored: carol (not an approver…)".
 */
export function escalatedMessage(resolution: {
  readonly waitingOn: readonly WaitingOn[];
  readonly ignoredApprovals: readonly { readonly approval: Approval; readonly why: string }[];
  readonly reason: string;
}): string {
  const ignored = resolution.ignoredApprovals.map((i) => `${describeAnswerer(i.approval)} (${i.why})`);
  const parts = [
    describeWaiting(resolution.waitingOn),
    ignored.length > 0 ? `ignored: ${ignored.join(', ')}` : '',
  ].filter(Boolean);
  return parts.length > 0 ? parts.join('; ') : resolution.reason;
}
