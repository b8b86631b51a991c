import type { Approval, ApprovalRequest } from '../../api/v1alpha1/approval-request.ts';
import type { AccessReviewer } from '../../k8s/access-review.ts';
import type { CompiledPolicy } from '../../policy/compile-policy.ts';
import { personOf } from '../../policy/person.ts';
import type { JudgedApproval } from '../../policy/verdict.ts';
import type { SlackPeople } from '../../slack/people.ts';

/** Whether the policy lists this Kubernetes user or one of their groups as an approver. */
export function listsKubernetesApprover(
  policy: CompiledPolicy,
  user: string,
  groups: readonly string[],
): boolean {
  const approvers = policy.policy.spec.escalation?.approvers;
  if (!approvers) return false;
  if (approvers.kubernetesUsers?.includes(user)) return true;
  return groups.some((group) => approvers.kubernetesGroups?.includes(group) === true);
}

/** Whether the policy lists this Slack user (group membership is resolved by the Slack integration). */
export function listsSlackApprover(policy: CompiledPolicy, user: string): boolean {
  return policy.policy.spec.escalation?.approvers.slackUsers?.includes(user) === true;
}

export interface Judges {
  readonly access: AccessReviewer;
  readonly slack?: SlackPeople | undefined;
}

/**
 * Relates each answer in status.approvals to its person and checks whether that person is an
 * approver of the policy the answer is for. Authorization is asked only where it can matter: for an
 * answer to a policy that escalated the request at the generation the answer names, from someone
 * related to a Kubernetes user. A Kubernetes user is an approver when the policy lists them (or a group
 * the API server authenticated them with) and a SubjectAccessReview allows them `approve` on it.
 */
export async function judgeApprovals(
  request: ApprovalRequest,
  policies: readonly CompiledPolicy[],
  judges: Judges,
): Promise<JudgedApproval[]> {
  const escalating = new Map(
    policies.filter((policy) => policy.policy.spec.escalation).map((policy) => [policy.name, policy]),
  );
  const approvals = request.status?.approvals ?? [];
  return Promise.all(
    approvals.map(async (approval, index) => {
      const person = personOf(approval);
      const policy = escalating.get(approval.policy);
      const approverOf = new Set<string>();
      const asked = policy?.generation === approval.policyGeneration;
      if (asked && person !== undefined && (await isApprover(approval, policy, request, judges))) {
        approverOf.add(policy.name);
      }
      return { approval, index, person, approverOf };
    }),
  );
}

async function isApprover(
  approval: Approval,
  policy: CompiledPolicy,
  request: ApprovalRequest,
  judges: Judges,
): Promise<boolean> {
  if (approval.via === 'slack') {
    return judges.slack
      ? judges.slack.mayApprove(policy.policy, approval.approver, approval.kubernetesUser)
      : listsSlackApprover(policy, approval.approver);
  }
  const groups = approval.groups ?? [];
  if (!listsKubernetesApprover(policy, approval.approver, groups)) return false;
  return judges.access.mayApprove({
    user: approval.approver,
    ...(approval.groups ? { groups: approval.groups } : {}),
    namespace: request.metadata.namespace ?? '',
    policy: policy.name,
  });
}
