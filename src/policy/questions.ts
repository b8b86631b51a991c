import type { ApprovalRequest } from '../api/v1alpha1/approval-request.ts';
import { isSamePerson, personOf } from './person.ts';

/**
 * What people answer: a policy that escalated a request, at the generation that asked. An answer is
 * bound to one question, so it never counts for a policy added or changed after it was given.
 */
export interface Question {
  readonly policy: string;
  readonly generation: number;
}

/** The questions a request asks now: its escalating, enforcing policies as status.evaluations names them. */
export function questionsAsked(request: ApprovalRequest): Question[] {
  const asked = new Map<string, Question>();
  for (const evaluation of request.status?.evaluations ?? []) {
    if (evaluation.result !== 'Escalate' || evaluation.dryRun === true) continue;
    if (evaluation.policyGeneration === undefined) continue;
    asked.set(evaluation.policy, { policy: evaluation.policy, generation: evaluation.policyGeneration });
  }
  return [...asked.values()];
}

/** Whether the person (a Kubernetes username) has answered the question, in Slack or with kubectl. */
export function hasAnswered(request: ApprovalRequest, username: string, question: Question): boolean {
  return (request.status?.approvals ?? []).some(
    (approval) =>
      isSamePerson(personOf(approval), username) &&
      approval.policy === question.policy &&
      approval.policyGeneration === question.generation,
  );
}
