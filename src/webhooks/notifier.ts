import type { ObjectCache } from '@kubernetes/client-node';
import type { ApprovalPolicy } from '../api/v1alpha1/approval-policy.ts';
import type { ApprovalRequest, WebhookDelivery } from '../api/v1alpha1/approval-request.ts';
import { isConflict, isNotFound } from '../k8s/api-errors.ts';
import type { GreenlightApi } from '../k8s/greenlight-api.ts';
import type { SecretValue } from '../k8s/secrets.ts';
import type { Logger } from '../observability/logger.ts';
import type { GreenlightMetrics } from '../observability/metrics.ts';
import type { BackoffOptions } from '../runtime/backoff.ts';
import { WebhookOutbox, type Recorded } from './outbox.ts';
import { anyWebhooks, dueWebhooks, GIVE_UP_AFTER_MS, recordDelivery, type DueWebhook } from './plan.ts';

export interface WebhookNotifierDeps {
  readonly policies: ObjectCache<ApprovalPolicy>;
  readonly api: GreenlightApi;
  readonly secret: (namespace: string, name: string, key: string) => Promise<SecretValue>;
  readonly metrics: GreenlightMetrics;
  readonly logger: Logger;
  /** --webhook-allow-link-local. */
  readonly allowLinkLocal: boolean;
  /** Retry schedule (tests make it shorter). */
  readonly retry?: BackoffOptions;
  readonly now?: () => Date;
  /** Whether the controller is deciding right now: delivery results are written after (outbox.ts). */
  readonly deciding?: () => boolean;
  /** The leader's write fence: no delivery leaves a replica that lost its lease. */
  readonly writeFence?: (() => boolean) | undefined;
}

/**
 * Decision webhooks for one controller process: what each request owes (from its status and its
 * policies), delivered by the outbox while this replica leads, each result recorded on the request.
 */
export class WebhookNotifier {
  readonly #deps: WebhookNotifierDeps;
  readonly #outbox: WebhookOutbox;
  /**
   * The request as last written, by uid, while deliveries for it are pending: a result is recorded with
   * one write carrying its resourceVersion (read again only after a conflict), so that a delivery costs
   * the API server one status write and no read.
   */
  readonly #latest = new Map<string, ApprovalRequest>();
  #leading = false;

  constructor(deps: WebhookNotifierDeps) {
    this.#deps = deps;
    this.#outbox = new WebhookOutbox({
      secret: deps.secret,
      record: (due, entries) => this.#record(due, entries),
      metrics: deps.metrics,
      logger: deps.logger.child({ component: 'webhooks' }),
      allowLinkLocal: deps.allowLinkLocal,
      ...(deps.retry ? { retry: deps.retry } : {}),
      now: () => this.#now().getTime(),
      ...(deps.deciding ? { deciding: deps.deciding } : {}),
      ...(deps.writeFence ? { writeFence: deps.writeFence } : {}),
    });
  }

  /** Whether any policy asks for webhooks (a new leader reads past decisions only then). */
  wanted(): boolean {
    return anyWebhooks(this.#deps.policies.list());
  }

  setLeading(leading: boolean): void {
    this.#leading = leading;
  }

  /**
   * Called with every undecided request that changed, each request the reconciler decided (as
   * written), and past decisions a new leader reads: plans what the request owes, if anything.
   */
  requestChanged(request: ApprovalRequest): void {
    if (!this.#leading || !request.status?.phase || request.status.phase === 'Pending') return;
    const now = this.#now().getTime();
    const namespace = request.metadata.namespace;
    const dues = dueWebhooks(request, (name) => this.#deps.policies.get(name, namespace), now).filter(
      (due) => now - due.since < GIVE_UP_AFTER_MS,
    );
    if (dues.length === 0) return;
    const uid = request.metadata.uid ?? '';
    if (this.#outbox.submit(request, dues) > 0 && !this.#latest.has(uid)) this.#latest.set(uid, request);
  }

  stop(): void {
    this.#outbox.stop();
  }

  #now(): Date {
    return this.#deps.now?.() ?? new Date();
  }

  /** Writes the results into status.webhooks with one write, reading the request again on a conflict. */
  async #record(due: DueWebhook, entries: readonly WebhookDelivery[]): Promise<Recorded> {
    try {
      return await this.#write(due, entries);
    } finally {
      if (!this.#outbox.pending(due.uid)) this.#latest.delete(due.uid);
    }
  }

  async #write(due: DueWebhook, entries: readonly WebhookDelivery[]): Promise<Recorded> {
    const { api } = this.#deps;
    let current = this.#latest.get(due.uid);
    for (let attempt = 1; ; attempt++) {
      current ??= await this.#read(due);
      if (current?.metadata.uid !== due.uid) return 'gone';
      const generation = current.metadata.generation ?? 1;
      const now = this.#now();
      const status = entries.reduce(
        (recorded, entry) => recordDelivery(recorded, entry, generation, now),
        current.status ?? {},
      );
      try {
        this.#latest.set(due.uid, await api.replaceRequestStatus(current, status));
        return 'recorded';
      } catch (error) {
        if (isNotFound(error)) return 'gone';
        if (!isConflict(error) || attempt >= 5) throw error;
        current = undefined;
      }
    }
  }

  /** The request as stored now; undefined once deleted. */
  async #read(due: DueWebhook): Promise<ApprovalRequest | undefined> {
    try {
      return await this.#deps.api.getRequest(due.namespace, due.name);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }
}
