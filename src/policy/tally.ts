import type { Approval } from '../api/v1alpha1/approval-request.ts';
import { isSamePerson } from './person.ts';
import type { Question } from './questions.ts';
import type { JudgedApproval } from './verdict.ts';

export interface Tally {
  /** The counted approvals, one per person, in the order they arrived. */
  readonly approvals: readonly JudgedApproval[];
  /** The first counted denial, if any: one approver's Deny denies the request. */
  readonly denial?: JudgedApproval;
  /** Answers addressed to this policy that do not count, each with why. */
  readonly ignored: readonly { readonly approval: Approval; readonly why: string }[];
}

/** The question one escalating policy asks, and whether the requester may answer it. */
export interface CountedQuestion extends Question {
  readonly allowSelfApproval: boolean;
  /** spec.requester of the request. */
  readonly requester: string | undefined;
  /**
   * Kubernetes users who are the requester too: for a request made through Slack intake
   * (`slack:<id>`), the Kubernetes user the asking Slack user is linked to (docs/security.md).
   */
  readonly requesterAliases?: readonly string[];
}

/**
 * Counts the answers to one policy's question: only answers given to this policy at its current
 * generation, only from people related to a Kubernetes user, only from its approvers, never from the
 * requester unless self-approval is allowed, and each person once — their first answer; answers are
 * taken in the order they arrived, whatever time a client wrote on them.
 */
export function tally(answers: readonly JudgedApproval[], question: CountedQuestion): Tally {
  const ignored: { approval: Approval; why: string }[] = [];
  const answered = new Set<string>();
  const counted: JudgedApproval[] = [];
  const ordered = [...answers].sort((a, b) => a.index - b.index);
  for (const answer of ordered) {
    const { approval, person } = answer;
    if (approval.policy !== question.policy) continue;
    const why = refusal(answer, question, answered);
    if (why !== undefined) {
      ignored.push({ approval, why });
      continue;
    }
    if (person !== undefined) answered.add(person);
    counted.push(answer);
  }
  const denial = counted.find((answer) => answer.approval.decision === 'Deny');
  return {
    approvals: counted.filter((answer) => answer.approval.decision === 'Approve'),
    ...(denial ? { denial } : {}),
    ignored,
  };
}

function refusal(
  { approval, person, approverOf }: JudgedApproval,
  question: CountedQuestion,
  answered: ReadonlySet<string>,
): string | undefined {
  if (approval.policyGeneration !== question.generation) {
    return (
      `given to generation ${approval.policyGeneration} of policy ${question.policy}, which has changed ` +
      `since (generation ${question.generation}): answer again`
    );
  }
  if (person === undefined) {
    return (
      `Slack user ${approval.approver} is not linked to a Kubernetes user, so the answer cannot be told ` +
      'apart from the requester’s or another approver’s'
    );
  }
  if (!approverOf.has(question.policy)) return `not an approver of policy ${question.policy}`;
  const asked = [question.requester, ...(question.requesterAliases ?? [])];
  if (asked.some((requester) => isSamePerson(person, requester)) && !question.allowSelfApproval) {
    return 'the requester cannot approve their own request';
  }
  if (answered.has(person)) return `${person} already answered for policy ${question.policy}`;
  return undefined;
}
