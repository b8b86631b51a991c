/**
 * Greenlight's Prometheus metrics: exactly the names, types and labels of the contract's "Metrics"
 * table, in a private registry (never prom-client's global one, so tests and embedded controllers do
 * not share counters).
 *
 * No label carries a request name, a user or any other unbounded value: callers pass domain values
 * (a `decidedBy` string, a Slack method) and this module maps them onto closed label sets.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Outcome } from '../api/v1alpha1/approval-request.ts';

export const DecidedByLabel = {
  Policy: 'policy',
  Human: 'human',
  Timeout: 'timeout',
  Controller: 'controller',
} as const;
export type DecidedByLabel = (typeof DecidedByLabel)[keyof typeof DecidedByLabel];

export const OutcomeLabel = { Approved: 'approved', Denied: 'denied', Expired: 'expired' } as const;
export type OutcomeLabel = (typeof OutcomeLabel)[keyof typeof OutcomeLabel];

export const PendingPhaseLabel = { Pending: 'pending', Escalated: 'escalated' } as const;
export type PendingPhaseLabel = (typeof PendingPhaseLabel)[keyof typeof PendingPhaseLabel];

export const SlackRequestResult = { Ok: 'ok', Error: 'error', RateLimited: 'rate_limited' } as const;
export type SlackRequestResult = (typeof SlackRequestResult)[keyof typeof SlackRequestResult];

export const SlackInteractionResult = {
  Accepted: 'accepted',
  BadSignature: 'bad_signature',
  Unauthorized: 'unauthorized',
  Stale: 'stale',
  SelfApproval: 'self_approval',
} as const;
export type SlackInteractionResult = (typeof SlackInteractionResult)[keyof typeof SlackInteractionResult];

/** What became of a message asking through Slack intake. */
export const SlackIntakeResult = {
  Created: 'created',
  Duplicate: 'duplicate',
  Refused: 'refused',
  Invalid: 'invalid',
} as const;
export type SlackIntakeResult = (typeof SlackIntakeResult)[keyof typeof SlackIntakeResult];

/** What became of one attempt to deliver a decision webhook. */
export const WebhookDeliveryResult = {
  Delivered: 'delivered',
  Failed: 'failed',
  Refused: 'refused',
} as const;
export type WebhookDeliveryResult = (typeof WebhookDeliveryResult)[keyof typeof WebhookDeliveryResult];

/** controller-runtime's `result` label of `controller_runtime_reconcile_total`. */
export const ReconcileResult = {
  Success: 'success',
  Error: 'error',
  Requeue: 'requeue',
  RequeueAfter: 'requeue_after',
} as const;
export type ReconcileResult = (typeof ReconcileResult)[keyof typeof ReconcileResult];

/** The Slack method label when the caller passes something that is not a Web API method name. */
export const OTHER_SLACK_METHOD = 'other';

/**
 * From sub-second policy decisions to people answering within a day; beyond a day lands in +Inf
 * (the default escalation timeout is 24h).
 */
const DECISION_DURATION_BUCKETS = [
  0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200, 14_400, 28_800, 43_200, 86_400,
];

/** controller-runtime's buckets for `controller_runtime_reconcile_time_seconds`. */
const RECONCILE_TIME_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5,
  1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];

/** client-go's buckets for `workqueue_queue_duration_seconds`: 10ns to 10s, ×10 each. */
const WORKQUEUE_DURATION_BUCKETS = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 10];

/**
 * prom-client's default process metrics that are gauges named `…_total`, which `promtool check
 * metrics` rejects (only counters may end in `_total`). Each has a per-`type` sibling without the
 * suffix (`nodejs_active_handles{type}` …) whose sum is the same number, so nothing is lost.
 */
const GAUGES_NAMED_LIKE_COUNTERS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

const SLACK_METHOD_SHAPE = /^[a-z][A-Za-z]*(\.[a-z][A-Za-z]*)+$/;

/** What the controller knows about undecided requests, read at every scrape. */
export interface PendingSnapshot {
  readonly pending: number;
  readonly escalated: number;
  /** creationTimestamp of the oldest Pending or Escalated request; undefined when there is none. */
  readonly oldestCreatedAt: Date | undefined;
}
export type PendingSource = () => PendingSnapshot;

export interface DecisionRecord {
  readonly outcome: Outcome;
  /** As written in `status.decision.decidedBy`: `policy:<p>/<r>`, `slack:<id>`, `user:<name>`, … */
  readonly decidedBy: string;
  /** The request's creationTimestamp. */
  readonly createdAt: Date | string;
  readonly decidedAt: Date | string;
}

/** What a work queue reports (the client-go `workqueue` metrics of one queue). */
export interface WorkqueueMetrics {
  add(): void;
  depth(n: number): void;
  queueDuration(seconds: number): void;
  retry(): void;
}

/** What a controller reports after each reconcile (the controller-runtime metrics of one controller). */
export interface ReconcileMetrics {
  observe(result: ReconcileResult, seconds: number): void;
}

export interface MetricsExposition {
  readonly contentType: string;
  readonly body: string;
}

export interface GreenlightMetricsOptions {
  /** Register prom-client's process and Node.js runtime metrics too; default true. */
  readonly processMetrics?: boolean;
  /** The clock used for ages at scrape time. */
  readonly now?: () => Date;
}

/**
 * The bounded `decided_by` label of a contract `decidedBy` value. Only the controller writes
 * decisions, so a value outside the contract's shapes is counted as `controller` rather than dropped
 * or copied into a label.
 */
export function decidedByLabel(decidedBy: string): DecidedByLabel {
  if (decidedBy.startsWith('policy:')) return DecidedByLabel.Policy;
  if (decidedBy.startsWith('slack:') || decidedBy.startsWith('user:')) return DecidedByLabel.Human;
  if (decidedBy === 'timeout') return DecidedByLabel.Timeout;
  return DecidedByLabel.Controller;
}

const OUTCOME_LABELS: Readonly<Record<Outcome, OutcomeLabel>> = {
  Approved: OutcomeLabel.Approved,
  Denied: OutcomeLabel.Denied,
  Expired: OutcomeLabel.Expired,
};

export function outcomeLabel(outcome: Outcome): OutcomeLabel {
  return OUTCOME_LABELS[outcome];
}

/** A Slack Web API method name (`chat.postMessage`) as is, anything else as `other`. */
export function slackMethodLabel(method: string): string {
  return SLACK_METHOD_SHAPE.test(method) ? method : OTHER_SLACK_METHOD;
}

/** Seconds from `from` to `to`, never negative (clocks drift); undefined when either is not a time. */
export function secondsBetween(from: Date | string, to: Date | string): number | undefined {
  const milliseconds = new Date(to).getTime() - new Date(from).getTime();
  return Number.isNaN(milliseconds) ? undefined : Math.max(0, milliseconds) / 1000;
}

function createInstruments(registry: Registry) {
  const registers = [registry];
  return {
    decisions: new Counter({
      name: 'greenlight_decisions_total',
      help: 'Final decisions on ApprovalRequests, by outcome and by who decided.',
      labelNames: ['outcome', 'decided_by'] as const,
      registers,
    }),
    decisionDuration: new Histogram({
      name: 'greenlight_decision_duration_seconds',
      help: 'Time from an ApprovalRequest creation to its final decision, by who decided.',
      labelNames: ['decided_by'] as const,
      buckets: DECISION_DURATION_BUCKETS,
      registers,
    }),
    policyEvaluationErrors: new Counter({
      name: 'greenlight_policy_evaluation_errors_total',
      help: 'Policy evaluations that ended in an error, by the policy and its namespace.',
      labelNames: ['namespace', 'policy'] as const,
      registers,
    }),
    slackRequests: new Counter({
      name: 'greenlight_slack_requests_total',
      help: 'Slack Web API calls, by method and result.',
      labelNames: ['method', 'result'] as const,
      registers,
    }),
    slackOutboxDepth: new Gauge({
      name: 'greenlight_slack_outbox_depth',
      help: 'Slack messages waiting to be sent or updated.',
      registers,
    }),
    retentionDeletions: new Counter({
      name: 'greenlight_retention_deleted_total',
      help: 'Decided ApprovalRequests deleted because they were older than --retain-decided.',
      registers,
    }),
    slackInteractions: new Counter({
      name: 'greenlight_slack_interactions_total',
      help: 'Button clicks received from Slack, by what became of them.',
      labelNames: ['result'] as const,
      registers,
    }),
    slackIntake: new Counter({
      name: 'greenlight_slack_intake_total',
      help: 'Messages asking for approval through Slack intake, by what became of them.',
      labelNames: ['result'] as const,
      registers,
    }),
    webhookDeliveries: new Counter({
      name: 'greenlight_webhook_deliveries_total',
      help: 'Attempts to deliver a decision webhook, by result.',
      labelNames: ['result'] as const,
      registers,
    }),
    webhookOutboxDepth: new Gauge({
      name: 'greenlight_webhook_outbox_depth',
      help: 'Decision webhook deliveries waiting to be sent or retried.',
      registers,
    }),
    reconciles: new Counter({
      name: 'controller_runtime_reconcile_total',
      help: 'Total number of reconciliations per controller',
      labelNames: ['controller', 'result'] as const,
      registers,
    }),
    reconcileErrors: new Counter({
      name: 'controller_runtime_reconcile_errors_total',
      help: 'Total number of reconciliation errors per controller',
      labelNames: ['controller'] as const,
      registers,
    }),
    reconcileTime: new Histogram({
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Length of time per reconciliation per controller',
      labelNames: ['controller'] as const,
      buckets: RECONCILE_TIME_BUCKETS,
      registers,
    }),
    workqueueDepth: new Gauge({
      name: 'workqueue_depth',
      help: 'Current depth of workqueue',
      labelNames: ['name'] as const,
      registers,
    }),
    workqueueAdds: new Counter({
      name: 'workqueue_adds_total',
      help: 'Total number of adds handled by workqueue',
      labelNames: ['name'] as const,
      registers,
    }),
    workqueueQueueDuration: new Histogram({
      name: 'workqueue_queue_duration_seconds',
      help: 'How long in seconds an item stays in workqueue before being requested.',
      labelNames: ['name'] as const,
      buckets: WORKQUEUE_DURATION_BUCKETS,
      registers,
    }),
    workqueueRetries: new Counter({
      name: 'workqueue_retries_total',
      help: 'Total number of retries handled by workqueue',
      labelNames: ['name'] as const,
      registers,
    }),
    leaderElection: new Gauge({
      name: 'leader_election_master_status',
      help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master.',
      labelNames: ['name'] as const,
      registers,
    }),
  };
}

type Instruments = ReturnType<typeof createInstruments>;

export class GreenlightMetrics {
  readonly #registry = new Registry();
  readonly #instruments: Instruments;
  readonly #now: () => Date;
  readonly #slackMethods = new Set<string>();
  #pendingSource: PendingSource | undefined;

  constructor(options: GreenlightMetricsOptions = {}) {
    this.#now = options.now ?? ((): Date => new Date());
    this.#instruments = createInstruments(this.#registry);
    this.#registerPendingGauges();
    this.#zeroClosedLabelSets();
    if (options.processMetrics ?? true) this.#registerProcessMetrics();
  }

  /**
   * The controller's view of undecided requests (a read of its cache), called at every scrape so the
   * gauges are always current. It must not throw: a throwing source fails the scrape.
   */
  setPendingSource(source: PendingSource): void {
    this.#pendingSource = source;
  }

  recordDecision(decision: DecisionRecord): void {
    const decidedBy = decidedByLabel(decision.decidedBy);
    this.#instruments.decisions.inc({ outcome: outcomeLabel(decision.outcome), decided_by: decidedBy });
    const seconds = secondsBetween(decision.createdAt, decision.decidedAt);
    if (seconds !== undefined) this.#instruments.decisionDuration.observe({ decided_by: decidedBy }, seconds);
  }

  /**
   * The ApprovalPolicy's namespace and name: bounded by the number of policies. `namespace` is the
   * policy's, as kube-state-metrics labels objects (the chart's ServiceMonitor honours it).
   */
  recordPolicyEvaluationError(namespace: string, policy: string): void {
    this.#instruments.policyEvaluationErrors.inc({ namespace, policy });
  }

  /**
   * A policy the controller knows: its error series starts at zero, so a rate counts its very first
   * error and dashboards list the policy before anything went wrong.
   */
  trackPolicy(namespace: string, policy: string): void {
    this.#instruments.policyEvaluationErrors.inc({ namespace, policy }, 0);
  }

  /** The first call of a method starts all its results at zero (a first failure then shows in rates). */
  recordSlackRequest(method: string, result: SlackRequestResult): void {
    const label = slackMethodLabel(method);
    if (!this.#slackMethods.has(label)) {
      this.#slackMethods.add(label);
      for (const each of Object.values(SlackRequestResult))
        this.#instruments.slackRequests.inc({ method: label, result: each }, 0);
    }
    this.#instruments.slackRequests.inc({ method: label, result });
  }

  recordRetentionDeletion(): void {
    this.#instruments.retentionDeletions.inc();
  }

  recordSlackInteraction(result: SlackInteractionResult): void {
    this.#instruments.slackInteractions.inc({ result });
  }

  setSlackOutboxDepth(depth: number): void {
    this.#instruments.slackOutboxDepth.set(depth);
  }

  recordSlackIntake(result: SlackIntakeResult): void {
    this.#instruments.slackIntake.inc({ result });
  }

  recordWebhookDelivery(result: WebhookDeliveryResult): void {
    this.#instruments.webhookDeliveries.inc({ result });
  }

  setWebhookOutboxDepth(depth: number): void {
    this.#instruments.webhookOutboxDepth.set(depth);
  }

  setLeader(name: string, leading: boolean): void {
    this.#instruments.leaderElection.set({ name }, leading ? 1 : 0);
  }

  /** The metrics of one controller; its series start at zero so rates are right from the start. */
  reconcileMetrics(controller: string): ReconcileMetrics {
    const { reconciles, reconcileErrors, reconcileTime } = this.#instruments;
    for (const result of Object.values(ReconcileResult)) reconciles.inc({ controller, result }, 0);
    reconcileErrors.inc({ controller }, 0);
    reconcileTime.zero({ controller });
    return {
      observe(result: ReconcileResult, seconds: number): void {
        reconciles.inc({ controller, result });
        if (result === ReconcileResult.Error) reconcileErrors.inc({ controller });
        reconcileTime.observe({ controller }, seconds);
      },
    };
  }

  /** The metrics of one work queue; its series start at zero. */
  workqueueMetrics(name: string): WorkqueueMetrics {
    const { workqueueAdds, workqueueDepth, workqueueQueueDuration, workqueueRetries } = this.#instruments;
    workqueueAdds.inc({ name }, 0);
    workqueueRetries.inc({ name }, 0);
    workqueueDepth.set({ name }, 0);
    workqueueQueueDuration.zero({ name });
    return {
      add(): void {
        workqueueAdds.inc({ name });
      },
      depth(n: number): void {
        workqueueDepth.set({ name }, n);
      },
      queueDuration(seconds: number): void {
        workqueueQueueDuration.observe({ name }, seconds);
      },
      retry(): void {
        workqueueRetries.inc({ name });
      },
    };
  }

  /** The Prometheus text exposition of every metric, for `GET /metrics`. */
  async metrics(): Promise<MetricsExposition> {
    return { contentType: this.#registry.contentType, body: await this.#registry.metrics() };
  }

  #registerPendingGauges(): void {
    const registers = [this.#registry];
    const snapshot = (): PendingSnapshot =>
      this.#pendingSource?.() ?? { pending: 0, escalated: 0, oldestCreatedAt: undefined };
    const requests = new Gauge({
      name: 'greenlight_requests',
      help: 'Undecided ApprovalRequests, by phase.',
      labelNames: ['phase'] as const,
      registers,
      collect: (): void => {
        const { pending, escalated } = snapshot();
        requests.set({ phase: PendingPhaseLabel.Pending }, pending);
        requests.set({ phase: PendingPhaseLabel.Escalated }, escalated);
      },
    });
    const oldestAge = new Gauge({
      name: 'greenlight_oldest_pending_request_age_seconds',
      help: 'Age of the oldest undecided (Pending or Escalated) ApprovalRequest; 0 when there is none.',
      registers,
      collect: (): void => {
        const { oldestCreatedAt } = snapshot();
        oldestAge.set(
          oldestCreatedAt === undefined ? 0 : (secondsBetween(oldestCreatedAt, this.#now()) ?? 0),
        );
      },
    });
  }

  #zeroClosedLabelSets(): void {
    const { decisions, decisionDuration, slackInteractions, slackIntake, webhookDeliveries } =
      this.#instruments;
    for (const decidedBy of Object.values(DecidedByLabel)) {
      for (const outcome of Object.values(OutcomeLabel)) decisions.inc({ outcome, decided_by: decidedBy }, 0);
      decisionDuration.zero({ decided_by: decidedBy });
    }
    for (const result of Object.values(SlackInteractionResult)) slackInteractions.inc({ result }, 0);
    for (const result of Object.values(SlackIntakeResult)) slackIntake.inc({ result }, 0);
    for (const result of Object.values(WebhookDeliveryResult)) webhookDeliveries.inc({ result }, 0);
  }

  #registerProcessMetrics(): void {
    collectDefaultMetrics({ register: this.#registry });
    for (const name of GAUGES_NAMED_LIKE_COUNTERS) this.#registry.removeSingleMetric(name);
  }
}
