import { setTimeout as sleep } from 'node:timers/promises';
import { APPROVAL_INTAKE_PLURAL, type ApprovalIntake } from '../api/v1alpha1/approval-intake.ts';
import { APPROVAL_POLICY_PLURAL, type ApprovalPolicy } from '../api/v1alpha1/approval-policy.ts';
import {
  APPROVAL_REQUEST_PLURAL,
  FINAL_PHASES,
  isFinal,
  type ApprovalRequest,
} from '../api/v1alpha1/approval-request.ts';
import { SubjectAccessReviewer, type AccessReviewer } from '../k8s/access-review.ts';
import { apiMessageOf, fieldSelectorRefused } from '../k8s/api-errors.ts';
import { EventsNotRecordedError, KubernetesEventRecorder } from '../k8s/events.ts';
import { GreenlightApi } from '../k8s/greenlight-api.ts';
import { ResilientInformer, pagedList, pages, trimmed } from '../k8s/informer.ts';
import type { ClusterAccess } from '../k8s/kube-http.ts';
import { SecretReader } from '../k8s/secrets.ts';
import { ResourceDiscovery } from '../k8s/resources.ts';
import type { Logger } from '../observability/logger.ts';
import type { GreenlightMetrics } from '../observability/metrics.ts';
import { CompiledPolicyCache } from '../policy/policy-cache.ts';
import { backoffDelay, type BackoffOptions } from '../runtime/backoff.ts';
import { WorkQueue } from '../runtime/workqueue.ts';
import { WebhookNotifier } from '../webhooks/notifier.ts';
import { GIVE_UP_AFTER_MS } from '../webhooks/plan.ts';
import { approvalIntakeReconciler } from './approval-intake/reconciler.ts';
import { approvalPolicyReconciler } from './approval-policy/reconciler.ts';
import { cachedRequest, undecidedRequestSource } from './approval-request/cache.ts';
import { approvalRequestReconciler } from './approval-request/reconciler.ts';
import type { SlackIntegration } from '../slack/integration.ts';
import type { SlackSettings } from '../slack/settings.ts';
import { ContextObjects, type ContextChange } from './context-objects.ts';
import { runRetention, type RetentionOptions } from './retention.ts';
import { Keys, runController } from './controller.ts';

export interface ManagerOptions {
  /** Where the API server is and who to be (the controller's ClusterConfig, or a client-node KubeConfig). */
  readonly kubeConfig: ClusterAccess;
  /** Watch one namespace only; all namespaces when undefined. */
  readonly namespace?: string;
  readonly logger: Logger;
  readonly metrics: GreenlightMetrics;
  /** Who this process is, in events and the leader lease. */
  readonly identity: string;
  /** Request workers (default DEFAULT_CONCURRENCY). */
  readonly concurrency?: number;
  readonly now?: () => Date;
  readonly access?: AccessReviewer;
  /** Delete decided requests older than this (`--retain-decided`); never when undefined. */
  readonly retention?: RetentionOptions | undefined;
  /** Slack, when configured (SLACK_BOT_TOKEN), and where HTTP interactivity listens. */
  readonly slack?:
    { readonly settings: SlackSettings; readonly bindAddress: string; readonly paceMs?: number } | undefined;
  /** Decision webhooks: --webhook-allow-link-local, and a shorter retry schedule for tests. */
  readonly webhooks?: { readonly allowLinkLocal?: boolean; readonly retry?: BackoffOptions };
  /**
   * Whether this process may still write (leader election's fence, also set on KubeHttp): Slack posts
   * and webhook deliveries ask it too. Always when undefined.
   */
  readonly writeFence?: () => boolean;
}

/** A new leader's read of past decisions, retried: from a second, doubling, at most a minute apart. */
const CATCH_UP_RETRY: BackoffOptions = { baseMs: 1_000, maxMs: 60_000, jitter: 0.2 };

/**
 * How far back a new leader reads decisions: Slack-born requests owe their answer and webhooks are
 * retried for a day (Slack announcements themselves go back an hour).
 */
const CATCH_UP_MS = GIVE_UP_AFTER_MS;

/**
 * Each reconcile mostly waits on the API server, so workers are cheap; with 4 the benchmark was bound
 * by them (0.48× the API server's ceiling), with 16 it reached 0.89× (docs/benchmarks.md).
 */
export const DEFAULT_CONCURRENCY = 16;

const REQUESTS = 'approvalrequest';
const POLICIES = 'approvalpolicy';
const INTAKES = 'approvalintake';

/**
 * Greenlight's two controllers over shared caches. `start()` fills the caches (a standby keeps them
 * warm); `run()` starts deciding and only returns once stopped; nothing is decided before every cache
 * has synced.
 */
export class ControllerManager {
  readonly #options: ManagerOptions;
  readonly #requestQueue: WorkQueue;
  readonly #policyQueue: WorkQueue;
  readonly #intakeQueue: WorkQueue;
  readonly #requests: ResilientInformer<ApprovalRequest>;
  readonly #policies: ResilientInformer<ApprovalPolicy>;
  readonly #intakes: ResilientInformer<ApprovalIntake>;
  readonly #context: ContextObjects;
  readonly #api: GreenlightApi;
  readonly #access: AccessReviewer;
  readonly #events: KubernetesEventRecorder;
  readonly #slack: SlackIntegration | undefined;
  readonly #webhooks: WebhookNotifier;
  readonly #stop = new AbortController();
  #running: Promise<void> | undefined;

  /**
   * Slack's SDKs are loaded only when Slack is configured: a controller without Slack does not carry
   * them (several MiB of memory; docs/benchmarks.md).
   */
  static async create(options: ManagerOptions): Promise<ControllerManager> {
    const integration = options.slack
      ? (await import('../slack/integration.ts')).SlackIntegration
      : undefined;
    return new ControllerManager(options, integration);
  }

  private constructor(options: ManagerOptions, Integration: typeof SlackIntegration | undefined) {
    this.#options = options;
    const { kubeConfig, namespace, logger, metrics } = options;
    this.#api = new GreenlightApi(kubeConfig);
    this.#requestQueue = new WorkQueue({ metrics: metrics.workqueueMetrics(REQUESTS) });
    this.#policyQueue = new WorkQueue({ metrics: metrics.workqueueMetrics(POLICIES) });
    this.#intakeQueue = new WorkQueue({ metrics: metrics.workqueueMetrics(INTAKES) });
    const informerLogger = logger.child({ component: 'informer' });
    this.#requests = new ResilientInformer<ApprovalRequest>({
      name: APPROVAL_REQUEST_PLURAL,
      kubeConfig,
      path: GreenlightApi.path(APPROVAL_REQUEST_PLURAL, namespace),
      ...undecidedRequestSource(this.#api, namespace, (error) => {
        informerLogger.warn(
          'The API server cannot select ApprovalRequests by status.phase (install the current CRDs); ' +
            'watching all requests, decided ones kept as stubs',
          { error: apiMessageOf(error) },
        );
      }),
      transform: cachedRequest,
      logger: informerLogger,
      onChange: (request) => {
        // A final request is never reconciled again (the reconciler returns at once): each decision
        // comes back as the watch's deletion of the decided request, and queueing it cost a reconcile
        // per decision (docs/benchmarks.md, F10). Decided requests reach Slack and webhooks whole from
        // the reconciler; the cache holds stubs at most.
        if (isFinal(request.status?.phase)) return;
        this.#requestQueue.add(Keys.of(request.metadata.namespace, request.metadata.name));
        this.#slack?.requestChanged(request);
        this.#webhooks.requestChanged(request);
      },
    });
    this.#policies = new ResilientInformer<ApprovalPolicy>({
      name: APPROVAL_POLICY_PLURAL,
      kubeConfig,
      path: GreenlightApi.path(APPROVAL_POLICY_PLURAL, namespace),
      list: pagedList((token) => this.#api.listPage(APPROVAL_POLICY_PLURAL, namespace, token)),
      logger: informerLogger,
      onChange: (policy) => {
        this.#policyQueue.add(Keys.of(policy.metadata.namespace, policy.metadata.name));
      },
    });
    this.#intakes = new ResilientInformer<ApprovalIntake>({
      name: APPROVAL_INTAKE_PLURAL,
      kubeConfig,
      path: GreenlightApi.path(APPROVAL_INTAKE_PLURAL, namespace),
      list: pagedList((token) => this.#api.listPage(APPROVAL_INTAKE_PLURAL, namespace, token)),
      logger: informerLogger,
      // Who owns a channel depends on every intake: one change re-checks them all (there are few).
      onChange: () => {
        for (const intake of this.#intakes.list())
          this.#intakeQueue.add(Keys.of(intake.metadata.namespace, intake.metadata.name));
      },
    });
    this.#context = new ContextObjects({
      kubeConfig,
      discovery: new ResourceDiscovery(kubeConfig),
      logger: informerLogger,
      onChange: (change) => {
        this.#requeueDependents(change);
      },
    });
    metrics.setPendingSource(() => this.#pendingSnapshot());
    this.#access = options.access ?? new SubjectAccessReviewer(kubeConfig);
    this.#events = new KubernetesEventRecorder(kubeConfig, options.identity, (error) => {
      if (error instanceof EventsNotRecordedError)
        logger.info('Events not recorded', { error: error.message });
      else logger.warn('Could not record an event', { error: apiMessageOf(error) });
    });
    const secrets = new SecretReader(kubeConfig);
    this.#webhooks = new WebhookNotifier({
      policies: this.#policies,
      api: this.#api,
      secret: (secretNamespace, name, key) => secrets.read(secretNamespace, name, key),
      metrics,
      logger,
      allowLinkLocal: options.webhooks?.allowLinkLocal ?? false,
      ...(options.webhooks?.retry ? { retry: options.webhooks.retry } : {}),
      ...(options.now ? { now: options.now } : {}),
      deciding: () => this.#requestQueue.busy(),
      writeFence: options.writeFence,
    });
    this.#slack =
      options.slack &&
      Integration &&
      new Integration({
        settings: options.slack.settings,
        bindAddress: options.slack.bindAddress,
        ...(options.slack.paceMs === undefined ? {} : { paceMs: options.slack.paceMs }),
        requests: this.#requests,
        namespace,
        policies: this.#policies,
        intakes: this.#intakes,
        api: this.#api,
        access: this.#access,
        events: this.#events,
        metrics,
        logger,
        writeFence: options.writeFence,
        ...(options.now ? { now: options.now } : {}),
      });
  }

  /**
   * Fills the caches; resolves once requests and policies are synced. Intakes sync in the background:
   * a cluster whose ApprovalIntake CRD is missing still decides (and says in the log that it cannot
   * list intakes), and Slack intake answers "try again" until they are synced.
   */
  async start(): Promise<void> {
    void this.#intakes.start();
    await Promise.all([this.#requests.start(), this.#policies.start()]);
    await this.#slack?.start();
    this.#options.logger.info('Caches synced', {
      requests: this.#requests.list().length,
      policies: this.#policies.list().length,
    });
  }

  synced(): boolean {
    return this.#requests.hasSynced() && this.#policies.hasSynced();
  }

  /** Starts deciding (the leader's job). Resolves when stopped, after in-flight reconciles finish. */
  run(): Promise<void> {
    if (this.#running) return this.#running;
    const { logger, metrics } = this.#options;
    const now = this.#options.now ?? ((): Date => new Date());
    const compiled = new CompiledPolicyCache();
    const events = this.#events;
    const concurrency = this.#options.concurrency ?? DEFAULT_CONCURRENCY;
    const onError = (controller: string) => (key: string, error: unknown) => {
      const { namespace, name } = Keys.parse(key);
      logger.error('Reconcile failed; retrying with backoff', {
        controller,
        namespace,
        name,
        error: apiMessageOf(error),
      });
    };
    const requests = runController({
      queue: this.#requestQueue,
      concurrency,
      metrics: metrics.reconcileMetrics(REQUESTS),
      signal: this.#stop.signal,
      onError: onError(REQUESTS),
      reconcile: approvalRequestReconciler({
        requests: this.#requests,
        policies: this.#policies,
        compiled,
        context: this.#context,
        access: this.#access,
        slackPeople: this.#slack?.people,
        api: this.#api,
        events,
        metrics,
        logger: logger.child({ controller: REQUESTS }),
        now,
        onDecided: (request) => {
          this.#slack?.requestChanged(request);
          this.#webhooks.requestChanged(request);
        },
      }),
    });
    const policies = runController({
      queue: this.#policyQueue,
      concurrency: 1,
      metrics: metrics.reconcileMetrics(POLICIES),
      signal: this.#stop.signal,
      onError: onError(POLICIES),
      reconcile: approvalPolicyReconciler({
        policies: this.#policies,
        compiled,
        api: this.#api,
        events,
        metrics,
        logger: logger.child({ controller: POLICIES }),
        now,
        requeueUndecided: (namespace) => {
          this.#requeueUndecided(namespace);
        },
      }),
    });
    const retention = this.#options.retention
      ? runRetention(
          this.#options.retention,
          {
            api: this.#api,
            namespace: this.#options.namespace,
            logger: logger.child({ component: 'retention' }),
            now,
            onDeleted: () => {
              metrics.recordRetentionDeletion();
            },
            pause: abortableSleep,
          },
          this.#stop.signal,
        )
      : Promise.resolve();
    const intakes = runController({
      queue: this.#intakeQueue,
      concurrency: 1,
      metrics: metrics.reconcileMetrics(INTAKES),
      signal: this.#stop.signal,
      onError: onError(INTAKES),
      reconcile: approvalIntakeReconciler({
        intakes: this.#intakes,
        slack: this.#slack,
        api: this.#api,
        logger: logger.child({ controller: INTAKES }),
        now,
      }),
    });
    for (const intake of this.#intakes.list())
      this.#intakeQueue.add(Keys.of(intake.metadata.namespace, intake.metadata.name));
    this.#running = Promise.all([requests, policies, intakes, retention]).then(() => undefined);
    this.#slack?.setLeading(true);
    this.#webhooks.setLeading(true);
    for (const request of this.#requests.list()) {
      if (!isFinal(request.status?.phase)) this.#webhooks.requestChanged(request);
    }
    void this.#catchUpUntilRead(logger);
    return this.#running;
  }

  /**
   * The catch-up read, again after each failure until it succeeds or the manager stops: it is the only
   * way a new leader learns what its predecessor decided but did not tell, so one refusal (429 from
   * API Priority and Fairness, an API server still initializing its storage) must not lose it.
   */
  async #catchUpUntilRead(logger: Logger): Promise<void> {
    for (let failures = 0; !this.#stop.signal.aborted; failures += 1) {
      try {
        await this.#catchUp();
        return;
      } catch (error) {
        const retryInMs = Math.round(backoffDelay(failures, CATCH_UP_RETRY));
        logger.warn('Could not read the last day’s decisions; retrying', {
          error: apiMessageOf(error),
          retryInMs,
        });
        await sleep(retryInMs, undefined, { signal: this.#stop.signal }).catch(() => undefined);
      }
    }
  }

  /**
   * A new leader does what its predecessor decided but may not have told: Slack announcements (the
   * last hour), a Slack-born request's answer and decision webhooks (the last day). The cache holds
   * undecided requests only, so the decisions are read once, page by page, one final phase at a time —
   * or all requests, on an API server that cannot select by phase. Keys in Slack and status.webhooks
   * rule out doubles. Nothing is read when neither Slack nor any webhook is configured.
   */
  async #catchUp(): Promise<void> {
    if (!this.#slack && !this.#webhooks.wanted()) return;
    try {
      for (const phase of FINAL_PHASES) await this.#catchUpWith(`status.phase=${phase}`);
    } catch (error) {
      if (!fieldSelectorRefused(error)) throw error;
      await this.#catchUpWith(undefined);
    }
  }

  async #catchUpWith(fieldSelector: string | undefined): Promise<void> {
    const { namespace } = this.#options;
    const now = (this.#options.now?.() ?? new Date()).getTime();
    const read = pages<ApprovalRequest>((token) =>
      this.#api.listPage(APPROVAL_REQUEST_PLURAL, namespace, token, fieldSelector),
    );
    for await (const page of read) {
      for (const request of page.items) {
        if (this.#stop.signal.aborted) return;
        if (!decidedWithin(request, now, CATCH_UP_MS)) continue;
        const whole = trimmed(request);
        this.#slack?.requestChanged(whole);
        this.#webhooks.requestChanged(whole);
      }
    }
  }

  /** Graceful shutdown: stop taking work, finish what is in flight, stop watching. */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#slack?.setLeading(false);
    this.#webhooks.setLeading(false);
    this.#webhooks.stop();
    await this.#slack?.stop();
    this.#requestQueue.shutDown();
    this.#policyQueue.shutDown();
    this.#intakeQueue.shutDown();
    await Promise.all([
      this.#requestQueue.shutDownWithDrain(),
      this.#policyQueue.shutDownWithDrain(),
      this.#intakeQueue.shutDownWithDrain(),
    ]);
    await this.#running;
    await this.#events.flush();
    await Promise.all([
      this.#requests.stop(),
      this.#policies.stop(),
      this.#intakes.stop(),
      this.#context.stop(),
    ]);
  }

  #requeueUndecided(namespace: string): void {
    for (const request of this.#requests.list(namespace)) {
      if (!isFinal(request.status?.phase))
        this.#requestQueue.add(Keys.of(request.metadata.namespace, request.metadata.name));
    }
  }

  /** A context object changed: re-evaluate the undecided requests of every namespace whose policies read its kind there. */
  #requeueDependents(change: ContextChange): void {
    const namespaces = new Set<string>();
    for (const policy of this.#policies.list()) {
      const reads = (policy.spec.context ?? []).some(
        (entry) =>
          entry.resource.apiVersion === change.apiVersion &&
          entry.resource.kind === change.kind &&
          (entry.resource.namespace ?? policy.metadata.namespace) === change.namespace,
      );
      if (reads && policy.metadata.namespace) namespaces.add(policy.metadata.namespace);
    }
    for (const namespace of namespaces) this.#requeueUndecided(namespace);
  }

  #pendingSnapshot(): { pending: number; escalated: number; oldestCreatedAt: Date | undefined } {
    let pending = 0;
    let escalated = 0;
    let oldest: number | undefined;
    for (const request of this.#requests.list()) {
      const phase = request.status?.phase;
      if (isFinal(phase)) continue;
      if (phase === 'Escalated') escalated += 1;
      else pending += 1;
      const created = new Date(request.metadata.creationTimestamp ?? 0).getTime();
      oldest = oldest === undefined ? created : Math.min(oldest, created);
    }
    return { pending, escalated, oldestCreatedAt: oldest === undefined ? undefined : new Date(oldest) };
  }
}

/** Waits `ms`, or less when the signal aborts first. */
function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function decidedWithin(request: ApprovalRequest, now: number, ms: number): boolean {
  const decidedAt = Date.parse(request.status?.decision?.decidedAt ?? '');
  return isFinal(request.status?.phase) && now - decidedAt < ms;
}
