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
  return whyNotSelected(selector, request) === undefined;
}

/**
 * Why a policy's selector does not pick the request, in words ("selects actions payment, not
 * db-migrate"); undefined when it does. Said in the decision when no policy selects a request.
 */
export function whyNotSelected(selector: Selector | undefined, request: ApprovalRequest): string | undefined {
  if (!selector) return undefined;
  return (
    actionMismatch(selector, request) ??
    requesterMismatch(selector, request) ??
    labelMismatch(selector, request)
  );
}

function actionMismatch({ actions }: Selector, { spec }: ApprovalRequest): string | undefined {
  if (!actions?.length || actions.includes(spec.action)) return undefined;
  return `selects actions ${actions.join(', ')}, not ${spec.action}`;
}

function requesterMismatch({ requesters }: Selector, { spec }: ApprovalRequest): string | undefined {
  if (!requesters?.length || requesters.some((pattern) => matchesGlob(pattern, spec.requester ?? '')))
    return undefined;
  return `selects requesters ${requesters.join(', ')}, not ${spec.requester ?? '(no requester)'}`;
}

function labelMismatch(
  { matchLabels, matchExpressions }: Selector,
  request: ApprovalRequest,
): string | undefined {
  const labels = request.metadata.labels ?? {};
  const label = Object.entries(matchLabels ?? {}).find(([key, value]) => labels[key] !== value);
  if (label) return `needs the label ${label[0]}=${label[1]}`;
  const requirement = (matchExpressions ?? []).find((r) => !matchesRequirement(labels, r));
  if (!requirement) return undefined;
  const values = requirement.values?.length ? ` (${requirement.values.join(', ')})` : '';
  return `needs the label ${requirement.key} ${requirement.operator}${values}`;
}
