import { DEFAULT_ESCALATION_TIMEOUT, type ApprovalPolicy } from '../api/v1alpha1/approval-policy.ts';
import type { ApprovalRequest } from '../api/v1alpha1/approval-request.ts';
import { parseDuration } from './duration.ts';

export interface Deadline {
  readonly at: Date;
  /** Where the limit came from, for the Expired reason. */
  readonly source: string;
}

/**
 * When an undecided request expires: its own `timeout`, capped by the escalation timeout (default 24h)
 * of every enforcing policy with an escalation that selects it; measured from creation. Undefined when
 * nothing limits it.
 */
export function deadline(
  request: ApprovalRequest,
  policies: readonly ApprovalPolicy[],
): Deadline | undefined {
  const created = new Date(request.metadata.creationTimestamp ?? 0).getTime();
  const limits: { ms: number; source: string }[] = [];
  const own = request.spec.timeout === undefined ? undefined : parseDuration(request.spec.timeout);
  if (own !== undefined)
    limits.push({ ms: own, source: `the request's timeout of ${request.spec.timeout ?? ''}` });
  for (const policy of policies) {
    if (!policy.spec.escalation || policy.spec.mode === 'DryRun') continue;
    const text = policy.spec.escalation.timeout ?? DEFAULT_ESCALATION_TIMEOUT;
    const ms = parseDuration(text);
    if (ms !== undefined)
      limits.push({
        ms,
        source: `the escalation timeout of ${text} of policy ${policy.metadata.name ?? ''}`,
      });
  }
  const tightest = limits.sort((a, b) => a.ms - b.ms)[0];
  return tightest && { at: new Date(created + tightest.ms), source: tightest.source };
}
