import type { ApprovalRequest, WebhookDelivery } from '../api/v1alpha1/approval-request.ts';
import { messageOf } from '../errors.ts';
import type { SecretValue } from '../k8s/secrets.ts';
import type { Logger } from '../observability/logger.ts';
import type { GreenlightMetrics } from '../observability/metrics.ts';
import { backoffDelay, type BackoffOptions } from '../runtime/backoff.ts';
import { cloudEvent, signedHeaders, signingKey, webhookId } from './cloudevent.ts';
import { postWebhook, type PostResult } from './deliver.ts';
import { GIVE_UP_AFTER_MS, type DueWebhook } from './plan.ts';

/** 1 s doubling to an hour, with jitter: a receiver down for a while hears from Greenlight soon after. */
export const DEFAULT_WEBHOOK_RETRY: BackoffOptions = { baseMs: 1_000, maxMs: 60 * 60_000, jitter: 0.2 };
const TIMEOUT_MS = 10_000;
/**
 * Deliveries in flight at once: a gathered batch goes out together, and a receiver 50 ms away still
 * hears about 300 decisions a second.
 */
const CONCURRENCY = 16;
/**
 * Deliveries leave together, at most this long after they are owed. On a busy machine each POST that
 * wakes the controller (and the receiver) on its own costs several times the work of the POST itself;
 * sent together, their answers are read together (docs/benchmarks.md, F13). Nothing to a pipeline
 * waiting on an approval.
 */
export const SEND_GATHER_MS = 20;
/** Results written to requests at once. */
const RECORD_CONCURRENCY = 4;
/**
 * How long a result may wait for the decisions in flight before it is written anyway. Recording costs
 * the API server one status write per request, as much as a decision; on a busy control plane, the
 * decisions pipelines wait for go first (docs/webhooks.md). Long enough for a burst of a few thousand
 * decisions to be made before any result is written.
 */
export const RECORD_YIELD_MAX_MS = 30_000;
/**
 * Results waiting beyond this many are written at once, oldest first, decisions or not: each holds its
 * request (as trimmed for the cache) until it is written.
 */
export const RECORD_WAITING_MAX = 2_000;
/**
 * Decisions come in bursts with short gaps between them (each waits for the API server); results are
 * written once none has been made for this long.
 */
const RECORD_QUIET_MS = 200;
const RECORD_YIELD_POLL_MS = 25;
/** What was delivered is remembered a little longer than anything is retried. */
const REMEMBER_MS = GIVE_UP_AFTER_MS + 60 * 60_000;

/** What recording a result found: recorded, or the request is gone (nothing more to do for it). */
export type Recorded = 'recorded' | 'gone';

export interface WebhookOutboxDeps {
  readonly secret: (namespace: string, name: string, key: string) => Promise<SecretValue>;
  /**
   * Records results on their request (status.webhooks and its condition) with one write: `entries` are
   * every result waiting for the request of `due`, in the order they were made.
   */
  readonly record: (due: DueWebhook, entries: readonly WebhookDelivery[]) => Promise<Recorded>;
  readonly metrics: GreenlightMetrics;
  readonly logger: Logger;
  readonly allowLinkLocal: boolean;
  readonly retry?: BackoffOptions;
  readonly timeoutMs?: number;
  readonly now?: () => number;
  /** Whether decisions are being made right now: results wait for them, up to RECORD_YIELD_MAX_MS. */
  readonly deciding?: () => boolean;
  /** The leader's write fence (KubeHttp's): a replica that lost its lease posts nothing more. */
  readonly writeFence?: () => boolean;
}

interface Item {
  readonly due: DueWebhook;
  /** The request as it was when the outcome was owed: what the event says. */
  readonly request: ApprovalRequest;
  attempts: number;
  notBefore: number;
  running: boolean;
  /** Its result waits to be written to the request, or is being written. */
  recording: boolean;
}

interface ResultToRecord {
  readonly item: Item;
  readonly entry: WebhookDelivery;
  readonly failed: boolean;
  readonly givingUp: boolean;
  readonly at: number;
}

/**
 * Decision webhooks, delivered at least once: each owed outcome is POSTed within SEND_GATHER_MS and, while the
 * receiver fails, again with backoff for up to 24 hours from the outcome. Deliveries run beside the
 * decisions, never in their way. Every result is recorded on the request, which is what a restarted
 * controller or a new leader reads to send only what was not delivered.
 */
export class WebhookOutbox {
  readonly #deps: WebhookOutboxDeps;
  readonly #items = new Map<string, Item>();
  /** Items waiting to be sent (now or after a backoff): neither being sent nor being recorded. */
  readonly #waiting = new Set<Item>();
  /** By request uid: its items waiting or being sent. */
  readonly #unrecorded = new Map<string, number>();
  /** Signing keys by secret value: making one costs more than the HMAC it signs with. */
  readonly #keys = new Map<string, ReturnType<typeof signingKey>>();
  /** Keys finished in this process (delivered, refused, given up), and when. */
  readonly #finished = new Map<string, number>();
  /**
   * Results not written yet, by request uid: each request's in the order they were made, the requests in
   * the order of their oldest (a Map keeps its keys in the order they were added).
   */
  readonly #results = new Map<string, ResultToRecord[]>();
  #resultsWaiting = 0;
  #timer: NodeJS.Timeout | undefined;
  #gatherTimer: NodeJS.Timeout | undefined;
  #recordTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  #running = 0;
  #recording = 0;
  #lastDecidingAt = -Infinity;

  constructor(deps: WebhookOutboxDeps) {
    this.#deps = deps;
  }

  /** Queues what is owed and not queued or finished already; says how many were new. */
  submit(request: ApprovalRequest, dues: readonly DueWebhook[]): number {
    if (this.#stopped) return 0;
    let added = 0;
    for (const due of dues) {
      if (this.#items.has(due.key) || this.#finished.has(due.key)) continue;
      added += 1;
      const item: Item = {
        due,
        request,
        attempts: due.attempts,
        notBefore: 0,
        running: false,
        recording: false,
      };
      this.#items.set(due.key, item);
      this.#wait(item);
    }
    this.#report();
    this.#gatherThenPump();
    return added;
  }

  depth(): number {
    return this.#items.size;
  }

  /** Whether a delivery for this request waits (or is being sent), other than one being recorded. */
  pending(uid: string): boolean {
    return (this.#unrecorded.get(uid) ?? 0) > 0;
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#gatherTimer);
    this.#gatherTimer = undefined;
    clearTimeout(this.#recordTimer);
    this.#recordTimer = undefined;
  }

  #now(): number {
    return this.#deps.now?.() ?? Date.now();
  }

  /** Sends what is owed once SEND_GATHER_MS have passed: one timer, however many deliveries join. */
  #gatherThenPump(): void {
    if (this.#stopped || this.#gatherTimer !== undefined) return;
    this.#gatherTimer = setTimeout(() => {
      this.#gatherTimer = undefined;
      this.#pump();
    }, SEND_GATHER_MS);
    this.#gatherTimer.unref();
  }

  #pump(): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    const now = this.#now();
    let next = Infinity;
    for (const item of this.#waiting) {
      if (item.notBefore > now) {
        next = Math.min(next, item.notBefore);
        continue;
      }
      if (this.#running >= CONCURRENCY) break;
      this.#waiting.delete(item);
      item.running = true;
      this.#running += 1;
      void this.#attempt(item).finally(() => {
        item.running = false;
        this.#running -= 1;
        this.#gatherThenPump();
      });
    }
    if (next !== Infinity) {
      this.#timer = setTimeout(() => {
        this.#pump();
      }, next - now);
      this.#timer.unref();
    }
  }

  /** Sends once; the result joins the ones to record, and the slot is free for the next delivery. */
  async #attempt(item: Item): Promise<void> {
    const { due } = item;
    const result = await this.#send(item);
    item.attempts += 1;
    this.#deps.metrics.recordWebhookDelivery(result.kind);
    const now = this.#now();
    const givingUp = result.kind === 'failed' && now - due.since >= GIVE_UP_AFTER_MS;
    const entry: WebhookDelivery = {
      url: due.url,
      outcome: due.outcome,
      result: result.kind === 'delivered' ? 'Delivered' : result.kind === 'refused' ? 'Refused' : 'Failing',
      attempts: item.attempts,
      lastAttemptAt: new Date(now).toISOString(),
      message: (givingUp ? `gave up after 24 hours: ${result.message}` : result.message).slice(0, 1024),
    };
    this.#log(due, entry);
    item.recording = true;
    this.#count(due.uid, -1);
    const toRecord = { item, entry, failed: result.kind === 'failed', givingUp, at: now };
    const others = this.#results.get(due.uid);
    if (others) others.push(toRecord);
    else this.#results.set(due.uid, [toRecord]);
    this.#resultsWaiting += 1;
    this.#pumpResults();
  }

  /**
   * Writes waiting results, up to RECORD_CONCURRENCY at once, after the decisions in flight: every
   * result waiting for one request (several webhooks, or an escalation and then its decision) with one
   * status write.
   */
  #pumpResults(): void {
    if (this.#stopped) return;
    while (this.#recording < RECORD_CONCURRENCY) {
      const next = this.#results.entries().next();
      if (next.done) return;
      const [uid, batch] = next.value;
      if (this.#yieldToDecisions(batch[0]?.at ?? 0)) {
        // One timer looks again, however many results arrive meanwhile.
        this.#recordTimer ??= setTimeout(() => {
          this.#recordTimer = undefined;
          this.#pumpResults();
        }, RECORD_YIELD_POLL_MS).unref();
        return;
      }
      this.#results.delete(uid);
      this.#resultsWaiting -= batch.length;
      this.#recording += 1;
      void this.#finish(batch).finally(() => {
        this.#recording -= 1;
        this.#pumpResults();
        this.#pump();
      });
    }
  }

  /** Whether a result that waits since `since` should wait longer for the decisions being made. */
  #yieldToDecisions(since: number): boolean {
    const now = this.#now();
    if (this.#deps.deciding?.()) this.#lastDecidingAt = now;
    return (
      now - this.#lastDecidingAt < RECORD_QUIET_MS &&
      now - since < RECORD_YIELD_MAX_MS &&
      this.#resultsWaiting <= RECORD_WAITING_MAX
    );
  }

  async #finish(batch: readonly ResultToRecord[]): Promise<void> {
    const [first] = batch;
    if (!first) return;
    const recorded = await this.#record(
      first.item.due,
      batch.map((result) => result.entry),
    );
    const now = this.#now();
    for (const { item, failed, givingUp } of batch) {
      const { due } = item;
      item.recording = false;
      if (!failed || givingUp || recorded === 'gone') {
        this.#items.delete(due.key);
        this.#finished.set(due.key, now);
      } else {
        item.notBefore = now + backoffDelay(item.attempts - 1, this.#deps.retry ?? DEFAULT_WEBHOOK_RETRY);
        this.#wait(item);
      }
    }
    this.#forgetOld(now);
    this.#report();
  }

  async #send(item: Item): Promise<PostResult> {
    const { due, request } = item;
    try {
      const secret = await this.#deps.secret(due.namespace, due.secretRef.name, due.secretRef.key);
      if ('problem' in secret) return { kind: 'failed', message: secret.problem };
      const key = this.#signingKey(secret.value);
      if ('problem' in key) {
        return {
          kind: 'failed',
          message: `the signing secret in Secret ${due.namespace}/${due.secretRef.name} key ${due.secretRef.key} ${key.problem}`,
        };
      }
      const body = JSON.stringify(cloudEvent(request, due.outcome));
      const id = webhookId(due.uid, due.outcome);
      const headers = signedHeaders(key.key, id, body, Math.floor(this.#now() / 1000));
      // Checked last, right before the POST: the new leader delivers it.
      if (this.#deps.writeFence?.() === false) return { kind: 'failed', message: 'no longer the leader' };
      return await postWebhook(due.url, headers, body, {
        allowLinkLocal: this.#deps.allowLinkLocal,
        timeoutMs: this.#deps.timeoutMs ?? TIMEOUT_MS,
      });
    } catch (error) {
      return { kind: 'failed', message: messageOf(error) };
    }
  }

  /** A result that cannot be recorded now is still final in this process; the next leader may send again. */
  async #record(due: DueWebhook, entries: readonly WebhookDelivery[]): Promise<Recorded> {
    try {
      return await this.#deps.record(due, entries);
    } catch (error) {
      this.#deps.logger.warn('Could not record a webhook delivery on the request', {
        namespace: due.namespace,
        name: due.name,
        webhook: origin(due.url),
        error: messageOf(error),
      });
      return 'recorded';
    }
  }

  #wait(item: Item): void {
    this.#waiting.add(item);
    this.#count(item.due.uid, 1);
  }

  #count(uid: string, change: number): void {
    const count = (this.#unrecorded.get(uid) ?? 0) + change;
    if (count > 0) this.#unrecorded.set(uid, count);
    else this.#unrecorded.delete(uid);
  }

  #signingKey(secret: string): ReturnType<typeof signingKey> {
    let key = this.#keys.get(secret);
    if (!key) {
      // Secrets rotate seldom; a handful of policies' secrets at most are in use at once.
      if (this.#keys.size >= 64) this.#keys.clear();
      key = signingKey(secret);
      this.#keys.set(secret, key);
    }
    return key;
  }

  #log(due: DueWebhook, entry: WebhookDelivery): void {
    // Deliveries are counted (greenlight_webhook_deliveries_total) and recorded on each request; a line
    // for each routine one would cost more than the delivery itself. A debug line at info level is not
    // written, but its fields would still be gathered here: so they are not, unless debug is on.
    const delivered = entry.result === 'Delivered';
    if (delivered && !this.#deps.logger.isDebugEnabled()) return;
    const fields = {
      namespace: due.namespace,
      name: due.name,
      webhook: origin(due.url),
      outcome: due.outcome,
      attempts: entry.attempts,
      result: entry.result,
      message: entry.message,
    };
    if (delivered) this.#deps.logger.debug('Delivered a decision webhook', fields);
    else this.#deps.logger.warn('A decision webhook was not delivered', fields);
  }

  #forgetOld(now: number): void {
    for (const [key, at] of this.#finished) {
      if (now - at < REMEMBER_MS) break;
      this.#finished.delete(key);
    }
  }

  #report(): void {
    this.#deps.metrics.setWebhookOutboxDepth(this.#items.size);
  }
}

/** A URL's scheme, host and port only, for logs: paths and queries of webhook URLs often carry tokens. */
export function origin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(not a URL)';
  }
}
