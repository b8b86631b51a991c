import type { ApprovalPolicy, Webhook } from '../api/v1alpha1/approval-policy.ts';
import {
  isFinal,
  WebhookOutcome,
  type ApprovalRequest,
  type ApprovalRequestStatus,
  type WebhookDelivery,
} from '../api/v1alpha1/approval-request.ts';
import { setConditions, type DesiredCondition } from '../controllers/conditions.ts';
import { outcomeTime } from './cloudevent.ts';

/**
 * Which decision webhooks a request owes now, and how a delivery's result is recorded on it (pure).
 * The request's status is the outbox's memory: an outcome recorded Delivered (or Refused) for a
 * webhook is never sent again, by this controller or the next leader.
 */

/** One outcome owed to one webhook. */
export interface DueWebhook {
  /** `uid/outcome/url`. */
  readonly key: string;
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly url: string;
  readonly outcome: WebhookOutcome;
  /** The signing secret: a Secret in the policy's (and so the request's) namespace. */
  readonly secretRef: { readonly name: string; readonly key: string };
  /** When the outcome happened (epoch ms); deliveries are retried for 24 hours from then. */
  readonly since: number;
  /** Attempts recorded so far (by this controller or an earlier one). */
  readonly attempts: number;
}

/** Policies by name, as consulted for this request (its why-trace names them). */
export type PolicyLookup = (name: string) => ApprovalPolicy | undefined;

/** How long an outcome is retried before Greenlight gives up on it. */
export const GIVE_UP_AFTER_MS = 24 * 60 * 60_000;

function outcomeOf(request: ApprovalRequest): WebhookOutcome | undefined {
  const phase = request.status?.phase;
  return phase === 'Escalated' || isFinal(phase) ? (phase as WebhookOutcome) : undefined;
}

/**
 * The webhooks the request owes for the outcome it is at: every consulted, enforcing policy's
 * `notify.webhooks` that name it (a URL once, from the first policy by name), unless recorded
 * Delivered or Refused. Only a policy still at the generation that decided counts: what a changed
 * policy would have wanted then is unknown, and an old decision is never sent for the first time to
 * a webhook added since.
 */
export function dueWebhooks(request: ApprovalRequest, policies: PolicyLookup, now: number): DueWebhook[] {
  const base = owedOutcome(request, now);
  if (!base) return [];
  const { uid, outcome } = base;
  const recorded = new Map(
    (request.status?.webhooks ?? []).map((entry) => [`${entry.url} ${entry.outcome}`, entry]),
  );
  const due = new Map<string, DueWebhook>();
  for (const policy of unchangedPolicies(request, policies)) {
    for (const webhook of policy.spec.notify?.webhooks ?? []) {
      const entry = recorded.get(`${webhook.url} ${outcome}`);
      if (due.has(webhook.url) || !owes(webhook, outcome, entry)) continue;
      due.set(webhook.url, {
        ...base,
        key: `${uid}/${outcome}/${webhook.url}`,
        url: webhook.url,
        secretRef: webhook.secretRef,
        attempts: entry?.attempts ?? 0,
      });
    }
  }
  return [...due.values()];
}

/** The outcome the request is at, with what every delivery of it shares; undefined while Pending. */
function owedOutcome(
  request: ApprovalRequest,
  now: number,
): Pick<DueWebhook, 'uid' | 'namespace' | 'name' | 'outcome' | 'since'> | undefined {
  const outcome = outcomeOf(request);
  const uid = request.metadata.uid;
  if (!outcome || !uid) return undefined;
  return {
    uid,
    namespace: request.metadata.namespace ?? '',
    name: request.metadata.name ?? '',
    outcome,
    since: Date.parse(outcomeTime(request, outcome) ?? '') || now,
  };
}

/** The enforcing policies the request consulted, by name, that are still at the generation evaluated. */
function unchangedPolicies(request: ApprovalRequest, policies: PolicyLookup): ApprovalPolicy[] {
  const generations = new Map<string, number | undefined>();
  for (const evaluation of request.status?.evaluations ?? []) {
    if (!evaluation.dryRun) generations.set(evaluation.policy, evaluation.policyGeneration);
  }
  return [...generations.keys()].sort().flatMap((name) => {
    const policy = policies(name);
    const generation = generations.get(name);
    return policy && (generation === undefined || policy.metadata.generation === generation) ? [policy] : [];
  });
}

/** Whether a webhook names the outcome and has not had it delivered (or refused) yet. */
function owes(webhook: Webhook, outcome: WebhookOutcome, entry: WebhookDelivery | undefined): boolean {
  const on = webhook.on?.length ? webhook.on : Object.values(WebhookOutcome);
  return on.includes(outcome) && (entry === undefined || entry.result === 'Failing');
}

/** Whether any policy asks for webhooks at all: when none does, nothing is planned or read. */
export function anyWebhooks(policies: readonly ApprovalPolicy[]): boolean {
  return policies.some((policy) => (policy.spec.notify?.webhooks?.length ?? 0) > 0);
}

const MAX_RECORDED = 64;

function webhooksCondition(webhooks: readonly WebhookDelivery[]): DesiredCondition {
  const notDelivered = webhooks.filter((entry) => entry.result !== 'Delivered');
  const [first] = notDelivered;
  if (!first) {
    return {
      type: 'WebhooksDelivered',
      status: 'True',
      reason: 'Delivered',
      message: `${webhooks.length} webhook deliver${webhooks.length === 1 ? 'y' : 'ies'} made`,
    };
  }
  return {
    type: 'WebhooksDelivered',
    status: 'False',
    reason: first.result,
    message: notDelivered.map((entry) => `${entry.url} (${entry.outcome}): ${entry.message}`).join('; '),
  };
}

/**
 * The status with one delivery's result recorded: the entry for its webhook and outcome replaced (or
 * added), and the WebhooksDelivered condition computed from all entries.
 */
export function recordDelivery(
  status: ApprovalRequestStatus,
  entry: WebhookDelivery,
  generation: number,
  now: Date,
): ApprovalRequestStatus {
  const current = status.webhooks ?? [];
  const index = current.findIndex((known) => known.url === entry.url && known.outcome === entry.outcome);
  let webhooks = index < 0 ? [...current, entry] : current.map((known, at) => (at === index ? entry : known));
  while (webhooks.length > MAX_RECORDED) {
    const oldest = webhooks.findIndex((known) => known.result === 'Delivered');
    webhooks = webhooks.filter((_, at) => at !== (oldest < 0 ? 0 : oldest));
  }
  return {
    ...status,
    webhooks,
    conditions: setConditions(status.conditions, [webhooksCondition(webhooks)], generation, now),
  };
}
