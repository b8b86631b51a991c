import type { Approval, ApprovalRequest } from '../../src/api/v1alpha1/approval-request.ts';
import { questionsAsked } from '../../src/policy/questions.ts';

/**
 * A person's answer as `greenlight approve` writes it: one entry for each policy that escalated the
 * request, bound to the generation status.evaluations shows for it.
 */
export function answersTo(
  request: ApprovalRequest,
  approver: string,
  decision: 'Approve' | 'Deny',
  extra: Partial<Pick<Approval, 'groups' | 'comment' | 'at'>> = {},
): Approval[] {
  const asked = questionsAsked(request);
  if (asked.length === 0) throw new Error(`${request.metadata.name ?? ''} was not escalated by any policy`);
  return asked.map((question) => ({
    approver,
    via: 'kubernetes',
    decision,
    at: new Date().toISOString(),
    policy: question.policy,
    policyGeneration: question.generation,
    ...extra,
  }));
}
