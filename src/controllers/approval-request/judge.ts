import type { ApprovalRequest } from '../../api/v1alpha1/approval-request.ts';
import type { AccessReviewer } from '../../k8s/access-review.ts';
import type { CompiledPolicy } from '../../policy/compile-policy.ts';
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

/**
 * Decides, for each person's answer, which policies it counts for. A Kubernetes user counts for a
 * policy that lists them (or a group the API server authenticated them with) and only if a
 * SubjectAccessReview allows them the verb `approve` on that policy.
 */
export async function judgeApprovals(
  request: ApprovalRequest,
  policies: readonly CompiledPolicy[],
  judges: { readonly access: AccessReviewer; readonly slack?: SlackPeople | undefined },
): Promise<JudgedApproval[]> {
  const escalating = policies.filter((policy) => policy.policy.spec.escalation);
  const judged: JudgedApproval[] = [];
  for (const approval of request.status?.approvals ?? []) {
    const approverOf = new Set<string>();
    for (const policy of escalating) {
      if (await counts(approval, policy, request, judges)) approverOf.add(policy.name);
    }
    // A Slack user whose email is a Kubernetes username is the same person as that user.
    const user =
      approval.via === 'kubernetes'
        ? approval.approver
        : await judges.slack?.kubernetesUser(approval.approver);
    judged.push({
      approval,
      identity: user ? `user:${user}` : `slack:${approval.approver}`,
      approverOf,
      isRequester: user === request.spec.requester,
    });
  }
  return judged;
}

async function counts(
  approval: NonNullable<NonNullable<ApprovalRequest['status']>['approvals']>[number],
  policy: CompiledPolicy,
  request: ApprovalRequest,
  judges: { readonly access: AccessReviewer; readonly slack?: SlackPeople | undefined },
): Promise<boolean> {
  if (approval.via === 'slack') {
    return judges.slack
      ? judges.slack.mayApprove(policy.policy, approval.approver)
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
