import type { Approval } from '../api/v1alpha1/approval-request.ts';

/**
 * One person, one approver. Every answer is related to a Kubernetes username: its approver for an
 * answer via kubernetes (the API server authenticated it), the linked user for an answer via Slack
 * (the controller recorded it from a SlackIdentity or the configured email claim). Usernames are
 * compared without case: treating `Alice` and `alice` as one person can only cost a vote, never add
 * one. A Slack answer without a linked user cannot be related to anyone and never counts.
 */
export function personOf(
  approval: Pick<Approval, 'via' | 'approver' | 'kubernetesUser'>,
): string | undefined {
  if (approval.via === 'kubernetes') return canonicalUser(approval.approver);
  return approval.kubernetesUser === undefined ? undefined : canonicalUser(approval.kubernetesUser);
}

export function canonicalUser(username: string): string {
  return username.toLowerCase();
}

export function isSamePerson(person: string | undefined, username: string | undefined): boolean {
  return person !== undefined && username !== undefined && person === canonicalUser(username);
}

/** How an answer's author reads in messages: `alice`, or `U0ALICE (alice)` for a linked Slack user. */
export function describeAnswerer(approval: Pick<Approval, 'via' | 'approver' | 'kubernetesUser'>): string {
  if (approval.via === 'kubernetes' || approval.kubernetesUser === undefined) return approval.approver;
  return `${approval.approver} (${approval.kubernetesUser})`;
}
