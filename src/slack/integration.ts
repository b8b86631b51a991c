import type { ObjectCache } from '@kubernetes/client-node';
import type { ApprovalIntake } from '../api/v1alpha1/approval-intake.ts';
import type { ApprovalPolicy } from '../api/v1alpha1/approval-policy.ts';
import { isFinal, type ApprovalRequest } from '../api/v1alpha1/approval-request.ts';
import type { AccessReviewer } from '../k8s/access-review.ts';
import { apiMessageOf, isConflict } from '../k8s/api-errors.ts';
import type { EventRecorder } from '../k8s/events.ts';
import type { GreenlightApi } from '../k8s/greenlight-api.ts';
import type { Logger } from '../observability/logger.ts';
import type { GreenlightMetrics } from '../observability/metrics.ts';
import { DEFAULT_IDENTITY_OPTIONS } from './identity.ts';
import { askingThread } from './intake.ts';
import { IntakeHandler, type EventAnswer } from './intake-handler.ts';
import { handleBlockAction, parseBlockAction, type InteractionDeps } from './interactions.ts';
import { SlackOutbox } from './outbox.ts';
import { SlackDirectory, type SlackPeople } from './people.ts';
import { planSlack, type SlackIntent } from './plan.ts';
import { startHttpReceiver, startSocketReceiver, type Receiver } from './receivers.ts';
import type { SlackSettings } from './settings.ts';
import { SlackWeb } from './web.ts';

/** Decisions older than this are not (re-)announced after a restart: a chat would only be flooded. */
const RECENT_MS = 60 * 60_000;
/**
 * A Slack-born request's decided reply is the asking machine's answer, so it is owed for longer: a
 * new leader answers the decisions of the last day its predecessor did not (the keys rule out doubles).
 */
export const ANSWER_OWED_MS = 24 * 60 * 60_000;
/** How often what is remembered of finished requests is swept. */
const SWEEP_MS = 60_000;

export interface SlackIntegrationDeps {
  readonly settings: SlackSettings;
  /** The undecided requests (decided ones come whole through requestChanged, from the reconciler). */
  readonly requests: ObjectCache<ApprovalRequest>;
  /** The namespace the controller watches; all when undefined. */
  readonly namespace?: string | undefined;
  readonly policies: ObjectCache<ApprovalPolicy>;
  /** Where machines ask (Slack intake), and whether they are listed yet. */
  readonly intakes: ObjectCache<ApprovalIntake> & { hasSynced(): boolean };
  readonly api: GreenlightApi;
  readonly access: AccessReviewer;
  readonly events: EventRecorder;
  readonly metrics: GreenlightMetrics;
  readonly logger: Logger;
  /** `--slack-bind-address` for HTTP interactivity. */
  readonly bindAddress: string;
  /** The leader's write fence (KubeHttp's), for Slack's writes too. */
  readonly writeFence?: (() => boolean) | undefined;
  readonly now?: () => Date;
  /** Messages per channel: at least this long apart (tests make it shorter). */
  readonly paceMs?: number;
}

/**
 * Slack for one controller process: the outbox (only while this replica leads, so one process
 * posts), and interactivity over HTTP or Socket Mode (every replica may record a click).
 */
export class SlackIntegration {
  readonly people: SlackPeople;
  readonly #deps: SlackIntegrationDeps;
  readonly #outbox: SlackOutbox;
  readonly #web: SlackWeb;
  readonly #intake: IntakeHandler;
  /** Refused messages' stand-in uids, and when they were refused (forgotten an hour later). */
  readonly #refused = new Map<string, number>();
  /** Undecided requests: where to find them in the cache. */
  readonly #byUid = new Map<string, { namespace: string; name: string }>();
  /** Decided requests, whole, while Slack still has something to do for them. */
  readonly #decided = new Map<string, ApprovalRequest>();
  /** Decided requests done with, and when their decision was made (to forget them an hour later). */
  readonly #finished = new Map<string, number>();
  /**
   * Requests that left the cache while this replica led, and when: decided (by a predecessor, or
   * read back by the catch-up) or deleted. What the outbox found of them in Slack is what keeps the
   * catch-up from posting their messages again, so it is kept as long as a decided request's.
   */
  readonly #departed = new Map<string, number>();
  #leading = false;
  #receiver: Receiver | undefined;
  #sweeper: NodeJS.Timeout | undefined;

  constructor(deps: SlackIntegrationDeps) {
    this.#deps = deps;
    const web = new SlackWeb({
      token: deps.settings.botToken,
      apiUrl: deps.settings.apiUrl,
      metrics: deps.metrics,
      ...(deps.writeFence ? { writeFence: deps.writeFence } : {}),
    });
    this.#web = web;
    this.people = new SlackDirectory({
      web,
      access: deps.access,
      linkedUser: (slackUser) => deps.api.linkedKubernetesUser(slackUser),
      options: deps.settings.identity ?? DEFAULT_IDENTITY_OPTIONS,
    });
    const logger = deps.logger.child({ component: 'slack' });
    this.#outbox = new SlackOutbox({
      web,
      logger,
      ...(deps.paceMs === undefined ? {} : { paceMs: deps.paceMs }),
      request: (uid) => this.#request(uid),
      recordTracking: (request, channel, ts) => this.#recordTracking(request, channel, ts),
      onDepth: (depth) => {
        deps.metrics.setSlackOutboxDepth(depth);
      },
      onTerminal: (request, failure, channel) => {
        if (!request) return;
        void deps.events.record(
          request,
          'Warning',
          'SlackFailed',
          `Slack refused a message to ${channel}: ${failure.message}`,
        );
      },
    });
    this.#intake = new IntakeHandler({
      intakes: deps.intakes,
      intakesSynced: () => deps.intakes.hasSynced(),
      api: deps.api,
      web,
      submit: (intents) => {
        this.#submitRefusal(intents);
      },
      metrics: deps.metrics,
      logger,
    });
  }

  /** What the intake reconciler asks of Slack: the channel's id, and whether Greenlight's bot is in it. */
  inspectChannel(channel: string): Promise<{ id: string; isMember: boolean } | undefined> {
    return this.#web.conversation(channel);
  }

  /** A channel's id from its `#name` (cached), or the id itself. */
  channelId(channel: string): Promise<string | undefined> {
    return this.#web.channelId(channel);
  }

  /** Whether Slack can reach Greenlight with events at all (HTTP with a signing secret, or Socket Mode). */
  get receivesEvents(): boolean {
    return Boolean(this.#deps.settings.appToken ?? this.#deps.settings.signingSecret);
  }

  /** One Events API payload, from either transport. */
  handleEvent(payload: unknown): Promise<EventAnswer> {
    return this.#intake.handle(payload);
  }

  #submitRefusal(intents: readonly SlackIntent[]): void {
    const now = this.#now().getTime();
    for (const intent of intents) this.#refused.set(intent.uid, now);
    this.#outbox.submit(intents);
  }

  /** Starts interactivity, and the sweep that keeps memory flat (standbys too: they see every request). */
  async start(): Promise<void> {
    const { settings, logger } = this.#deps;
    this.#sweeper = setInterval(() => {
      this.sweep();
    }, SWEEP_MS).unref();
    const handle = (payload: unknown): Promise<void> => this.#interact(payload);
    const handleEvent = (payload: unknown): Promise<EventAnswer> => this.handleEvent(payload);
    if (settings.appToken) {
      this.#receiver = await startSocketReceiver({
        appToken: settings.appToken,
        apiUrl: settings.apiUrl,
        handle,
        handleEvent,
        logger,
      });
    } else if (settings.signingSecret) {
      this.#receiver = await startHttpReceiver({
        address: this.#deps.bindAddress,
        signingSecret: settings.signingSecret,
        handle,
        handleEvent,
        logger,
        refused: (result) => {
          this.#deps.metrics.recordSlackInteraction(result);
        },
      });
    } else {
      logger.warn(
        'Slack buttons and intake are disabled: set SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode)',
      );
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#outbox.stop();
    await this.#receiver?.stop();
  }

  /**
   * Only the leader posts; standbys start posting when they take over: their caches are warm, and the
   * manager hands them the recent decisions (which the cache does not hold), read once, through
   * requestChanged.
   */
  setLeading(leading: boolean): void {
    this.#leading = leading;
    if (!leading) return;
    for (const request of this.#deps.requests.list()) this.requestChanged(request);
  }

  /**
   * Called for every change of an undecided request (informer events and resyncs) and, by the
   * reconciler, with each request it decided, as written.
   */
  requestChanged(request: ApprovalRequest): void {
    const uid = request.metadata.uid;
    if (!uid) return;
    let announce = true;
    if (isFinal(request.status?.phase)) {
      this.#byUid.delete(uid);
      announce = this.#decidedWithin(request, RECENT_MS);
      const owed = askingThread(request) !== undefined && this.#decidedWithin(request, ANSWER_OWED_MS);
      if (!this.#leading || (!announce && !owed) || this.#finished.has(uid)) return;
      this.#decided.set(uid, request);
    } else {
      this.#byUid.set(uid, {
        namespace: request.metadata.namespace ?? '',
        name: request.metadata.name ?? '',
      });
      if (!this.#leading) return;
    }
    const namespace = request.metadata.namespace;
    this.#outbox.submit(planSlack(request, (name) => this.#deps.policies.get(name, namespace), { announce }));
  }

  #decidedWithin(request: ApprovalRequest, ms: number): boolean {
    return this.#now().getTime() - decidedAt(request) < ms;
  }

  #now(): Date {
    return this.#deps.now?.() ?? new Date();
  }

  #request(uid: string): ApprovalRequest | undefined {
    const decided = this.#decided.get(uid);
    if (decided) return decided;
    const where = this.#byUid.get(uid);
    const request = where && this.#deps.requests.get(where.name, where.namespace);
    return request?.metadata.uid === uid ? request : undefined;
  }

  /**
   * Keeps memory flat in a long-running controller (every minute; callable at any time): decided
   * requests are dropped once Slack is done with them, their message keys an hour after the decision
   * (after that no restart re-announces them); requests that left the cache are forgotten at once on
   * a standby (it has posted nothing) and an hour later on the leader.
   */
  sweep(): void {
    for (const [uid, request] of this.#decided) {
      if (this.#outbox.pending(uid)) continue;
      this.#decided.delete(uid);
      this.#finished.set(uid, decidedAt(request));
    }
    const now = this.#now().getTime();
    for (const [uid, where] of this.#byUid) {
      if (this.#deps.requests.get(where.name, where.namespace)?.metadata.uid === uid) continue;
      this.#byUid.delete(uid);
      // A standby has posted and read nothing in Slack: nothing of it worth keeping.
      this.#departed.set(uid, this.#leading ? now : Number.NEGATIVE_INFINITY);
    }
    const forgotten = new Set<string>();
    const stale = (since: Map<string, number>, keep: (uid: string) => boolean = () => false): void => {
      for (const [uid, at] of since) {
        if (now - at < RECENT_MS || keep(uid)) continue;
        since.delete(uid);
        forgotten.add(uid);
      }
    };
    stale(this.#finished);
    stale(this.#departed);
    stale(this.#refused, (uid) => this.#outbox.pending(uid));
    this.#outbox.forget(forgotten);
  }

  /** status.slack is written with the resourceVersion read; on a conflict, read again and retry. */
  async #recordTracking(request: ApprovalRequest, channel: string, ts: string): Promise<void> {
    let current = request;
    for (let attempt = 1; attempt <= 5; attempt++) {
      if (current.status?.slack?.ts === ts) return;
      try {
        await this.#deps.api.replaceRequestStatus(current, { ...current.status, slack: { channel, ts } });
        return;
      } catch (error) {
        if (!isConflict(error)) throw error;
        current = await this.#deps.api.getRequest(
          current.metadata.namespace ?? '',
          current.metadata.name ?? '',
        );
      }
    }
  }

  async #interact(payload: unknown): Promise<void> {
    const action = parseBlockAction(payload);
    if (!action) return;
    const deps: InteractionDeps = {
      requests: this.#deps.requests,
      policies: this.#deps.policies,
      api: this.#deps.api,
      people: this.people,
      logger: this.#deps.logger.child({ component: 'slack' }),
      now: this.#deps.now ?? ((): Date => new Date()),
    };
    try {
      const outcome = await handleBlockAction(action, deps);
      this.#deps.metrics.recordSlackInteraction(outcome.result);
      if (outcome.result !== 'accepted' && action.channel) {
        await this.#web.postEphemeral({ channel: action.channel, user: action.user, text: outcome.reply });
      }
    } catch (error) {
      this.#deps.logger.error('Could not handle a Slack click', {
        error: apiMessageOf(error),
        slackUser: action.user,
      });
    }
  }
}

/** When the request was decided (epoch ms); 0 when it is not. */
function decidedAt(request: ApprovalRequest): number {
  const at = request.status?.decision?.decidedAt;
  return at ? new Date(at).getTime() : 0;
}
