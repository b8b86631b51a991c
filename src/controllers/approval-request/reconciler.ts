import type { ObjectCache } from '@kubernetes/client-node';
import type { ApprovalPolicy } from '../../api/v1alpha1/approval-policy.ts';
import { isFinal, type ApprovalRequest } from '../../api/v1alpha1/approval-request.ts';
import { isConflict, isNotFound } from '../../k8s/api-errors.ts';
import type { AccessReviewer } from '../../k8s/access-review.ts';
import type { EventRecorder } from '../../k8s/events.ts';
import type { GreenlightApi } from '../../k8s/greenlight-api.ts';
import { trimmed } from '../../k8s/informer.ts';
import type { GreenlightMetrics } from '../../observability/metrics.ts';
import type { Logger } from '../../observability/logger.ts';
import { decide, type Resolution } from '../../policy/decide.ts';
import { describeWaiting } from '../../policy/progress.ts';
import type { SlackPeople } from '../../slack/people.ts';
import { requesterAliases } from '../../slack/requester.ts';
import { resolveContextReferences } from '../../policy/evaluate-policy.ts';
import type { CompiledPolicyCache } from '../../policy/policy-cache.ts';
import { selects } from '../../policy/selector.ts';
import { ContextObjects, type ContextTarget } from '../context-objects.ts';
import { Keys, type ReconcileOutcome } from '../controller.ts';
import { judgeApprovals } from './judge.ts';
import { nextStatus, statusChanged } from './status.ts';

/** Undecided requests are evaluated again at least this often ("green for 24 hours" becomes true by itself). */
export const REEVALUATE_EVERY_MS = 60_000;

export interface RequestReconcilerDeps {
  readonly requests: ObjectCache<ApprovalRequest>;
  readonly policies: ObjectCache<ApprovalPolicy>;
  readonly compiled: CompiledPolicyCache;
  readonly context: ContextObjects;
  readonly access: AccessReviewer;
  /** Slack's directory, when Slack is configured: who a Slack user is, which policies they may answer for. */
  readonly slackPeople?: SlackPeople | undefined;
  readonly api: GreenlightApi;
  readonly events: EventRecorder;
  readonly metrics: GreenlightMetrics;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Each request this reconciler decided, as written (a watch of undecided requests never shows it). */
  readonly onDecided?: (request: ApprovalRequest) => void;
}

const eventFor = {
  Approved: ['Normal', 'Approved'],
  Denied: ['Warning', 'Denied'],
  Expired: ['Warning', 'Expired'],
} as const;

/**
 * Reconciles one ApprovalRequest from the current state: the request, the policies of its
 * namespace, their context objects and people's answers. A final decision is never touched again.
 */
export function approvalRequestReconciler(
  deps: RequestReconcilerDeps,
): (key: string) => Promise<ReconcileOutcome> {
  return async (key) => {
    const { namespace, name } = Keys.parse(key);
    const request = deps.requests.get(name, namespace);
    if (!request || isFinal(request.status?.phase)) return {};
    const logger = deps.logger.child({ namespace, name });
    const now = deps.now();

    const policies = deps.policies.list(namespace).map((policy) => deps.compiled.get(policy));
    const selected = policies.filter((policy) => selects(policy.policy.spec.selector, request));
    const targets: ContextTarget[] = selected.flatMap((policy) =>
      resolveContextReferences(policy, request, now).flatMap((reference) =>
        'error' in reference ? [] : [reference],
      ),
    );
    const objects = await deps.context.fetch(targets);
    const approvals = await judgeApprovals(request, selected, {
      access: deps.access,
      slack: deps.slackPeople,
    });
    const aliases = await askedAs(request, approvals.length, deps);
    const resolution = decide({
      request,
      policies,
      now,
      approvals,
      lookup: (reference) => objects.get(ContextObjects.key(reference)) ?? null,
      ...(aliases.length > 0 ? { requesterAliases: aliases } : {}),
    });
    for (const evaluation of resolution.evaluations) {
      if (evaluation.result === 'Error')
        deps.metrics.recordPolicyEvaluationError(namespace, evaluation.policy);
    }

    const status = nextStatus(request, resolution, now);
    if (statusChanged(request.status, status)) {
      let written: ApprovalRequest;
      try {
        written = await deps.api.replaceRequestStatus(request, status);
      } catch (error) {
        if (isConflict(error) || isNotFound(error)) return { requeue: isConflict(error) };
        throw error;
      }
      await announce(deps, { previous: request.status, written }, resolution, logger);
    }
    return resolution.decision ? {} : { requeueAfterMs: nextLook(resolution, now) };
  };
}

/**
 * Who else is the requester of a Slack-born request: the Kubernetes user its asker is linked to. Asked
 * only when there are answers to count.
 */
async function askedAs(
  request: ApprovalRequest,
  answers: number,
  deps: RequestReconcilerDeps,
): Promise<readonly string[]> {
  if (answers === 0) return [];
  return requesterAliases(request, (slackUser) =>
    deps.slackPeople ? deps.slackPeople.askedAs(slackUser) : deps.api.linkedKubernetesUser(slackUser),
  );
}

function nextLook(resolution: Resolution, now: Date): number {
  const untilExpiry = resolution.expiresAt ? resolution.expiresAt.getTime() - now.getTime() + 10 : Infinity;
  return Math.max(10, Math.min(REEVALUATE_EVERY_MS, untilExpiry));
}

/**
 * Tells what changed: metrics, logs, Events, and Slack (through onDecided). `written` is the request
 * as stored now, `previous` its status before.
 */
async function announce(
  deps: RequestReconcilerDeps,
  { previous, written }: { previous: ApprovalRequest['status']; written: ApprovalRequest },
  resolution: Resolution,
  logger: Logger,
): Promise<void> {
  const request = trimmed(written);
  if (resolution.decision) {
    deps.onDecided?.(request);
    const { outcome, decidedBy, reason } = resolution.decision;
    const [type, eventReason] = eventFor[outcome];
    deps.metrics.recordDecision({
      outcome,
      decidedBy,
      createdAt: request.metadata.creationTimestamp ?? deps.now(),
      decidedAt: deps.now(),
    });
    logger.info('Decided ApprovalRequest', { outcome, decidedBy, reason });
    await deps.events.record(request, type, eventReason, `${outcome} by ${decidedBy}: ${reason}`);
  } else if (resolution.phase !== previous?.phase) {
    logger.info('Updated ApprovalRequest', { phase: resolution.phase, reason: resolution.reason });
    const message =
      resolution.phase === 'Escalated'
        ? `Escalated to people: ${describeWaiting(resolution.waitingOn)}; ${resolution.reason}`
        : resolution.reason;
    await deps.events.record(request, 'Normal', resolution.phase, message);
  }
  for (const ignored of resolution.ignoredApprovals) {
    const already = previous?.conditions?.some((c) => c.message.includes(`${ignored.approval.approver} (`));
    if (!already) {
      await deps.events.record(
        request,
        'Warning',
        'ApprovalIgnored',
        `Ignored ${ignored.approval.decision} by ${ignored.approval.approver}: ${ignored.why}`,
      );
    }
  }
}
