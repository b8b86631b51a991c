import type { Selector } from '../api/v1alpha1/approval-policy.ts';
import type { ApprovalRequest } from '../api/v1alpha1/approval-request.ts';
import { matchesGlob } from './glob.ts';

type Requirement = NonNullable<Selector['matchExpressions']>[number];

function matchesRequirement(labels: Readonly<Record<string, string>>, requirement: Requirement): boolean {
  const value = labels[requirement.key];
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
  }
}

/** Whether a policy's selector picks the request; every given part must match, an empty selector picks all. */
export function selects(selector: Selector | undefined, request: ApprovalRequest): boolean {
  if (!selector) return true;
  const { actions, requesters, matchLabels, matchExpressions } = selector;
  const labels = request.metadata.labels ?? {};
  if (actions?.length && !actions.includes(request.spec.action)) return false;
  if (requesters?.length && !requesters.some((pattern) => matchesGlob(pattern, request.spec.requester)))
    return false;
  if (matchLabels && !Object.entries(matchLabels).every(([key, value]) => labels[key] === value))
    return false;
  return (matchExpressions ?? []).every((requirement) => matchesRequirement(labels, requirement));
}
