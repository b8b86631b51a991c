import type { ObjectCache } from '@kubernetes/client-node';
import type { ApprovalIntake } from '../api/v1alpha1/approval-intake.ts';
import type { ApprovalRequest } from '../api/v1alpha1/approval-request.ts';
import { apiMessageOf, isConflict, statusCodeOf } from '../k8s/api-errors.ts';
import type { GreenlightApi } from '../k8s/greenlight-api.ts';
import type { Logger } from '../observability/logger.ts';
import type { GreenlightMetrics } from '../observability/metrics.ts';
import {
  askingThread,
  intakeFor,
  parseEvent,
  REFUSED_EVENT,
  type AskingMessage,
  type IntakeRequest,
  type OwnIdentity,
  type ResolvedIntake,
} from './intake.ts';
import { judgeMessage, type IntakeResult } from './intake-judge.ts';
import { refusalReply } from './messages.ts';
import { reactionIntent, refusalKey, refusalUid, type SlackIntent } from './plan.ts';
import type { SlackWeb } from './web.ts';

/** Messages already handled are remembered this long (Slack retries for about six minutes). */
const REMEMBER_MS = 60 * 60_000;
const REMEMBER_MAX = 10_000;

export interface IntakeHandlerDeps {
  readonly intakes: ObjectCache<ApprovalIntake>;
  /** Until the intakes are listed, a message cannot be told from one in a channel without intake. */
  readonly intakesSynced: () => boolean;
  readonly api: GreenlightApi;
  readonly web: SlackWeb;
  /** Queues Slack work (the outbox): replies to refused messages. Requests' replies follow their status. */
  readonly submit: (intents: readonly SlackIntent[]) => void;
  readonly metrics: GreenlightMetrics;
  readonly logger: Logger;
}

/** What to answer Slack: 200 once the message is dealt with for good; 500 to have Slack send it again. */
export interface EventAnswer {
  readonly status: 200 | 500;
  readonly body: string;
}

const OK: EventAnswer = { status: 200, body: '' };
const NOBODY: OwnIdentity = { botUserId: undefined, botId: undefined, appId: undefined };

/**
 * Slack intake at the edges: turns an Events API payload into at most one ApprovalRequest, or into a
 * refusal answered in the message's thread. The request is named from the message, so Slack's
 * retries, a redelivery or a restart find it instead of making a second one; a message is answered
 * 200 only once its outcome is durable (the request exists, or the refusal is decided), and 500 when
 * Kubernetes or Slack could not be asked, so that Slack sends it again.
 */
export class IntakeHandler {
  readonly #deps: IntakeHandlerDeps;
  readonly #inFlight = new Map<string, Promise<EventAnswer>>();
  /** `channel ts` → when it was handled, oldest first. */
  readonly #handled = new Map<string, number>();
  #own: Promise<OwnIdentity> | undefined;

  constructor(deps: IntakeHandlerDeps) {
    this.#deps = deps;
  }

  async handle(payload: unknown): Promise<EventAnswer> {
    // Most events are ordinary chat or Greenlight's own messages: they need not know who Greenlight is.
    const first = parseEvent(payload, NOBODY);
    if (first.kind === 'url_verification') return { status: 200, body: first.challenge };
    if (first.kind === 'ignored') return OK;
    const parsed = parseEvent(payload, await this.#identity());
    if (parsed.kind !== 'asking') return OK;
    if (!this.#deps.intakesSynced()) return { status: 500, body: 'not ready yet; send it again' };
    const { message } = parsed;
    const key = `${message.channel} ${message.ts}`;
    if (this.#handled.has(key)) {
      this.#count('duplicate');
      return OK;
    }
    const running = this.#inFlight.get(key);
    if (running) return running;
    const handling = this.#handle(message).finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, handling);
    const answer = await handling;
    if (answer.status === 200) this.#remember(key);
    return answer;
  }

  /** Greenlight's own ids, asked once (and again after a failure); its own messages are never asked with. */
  async #identity(): Promise<OwnIdentity> {
    this.#own ??= this.#deps.web.self();
    try {
      return await this.#own;
    } catch (error) {
      this.#own = undefined;
      this.#deps.logger.warn('Could not ask Slack who Greenlight is (auth.test); checking app ids only', {
        error: apiMessageOf(error),
      });
      return NOBODY;
    }
  }

  async #handle(message: AskingMessage): Promise<EventAnswer> {
    const logger = this.#deps.logger.child({ slackChannel: message.channel, slackTs: message.ts });
    try {
      const intake = intakeFor(await this.#resolvedIntakes(), message.channel);
      const verdict = judgeMessage(message, intake);
      if (verdict.result === 'create') return await this.#create(verdict.request, logger);
      this.#refuse(message, verdict.result, verdict.why, logger);
      return OK;
    } catch (error) {
      logger.error('Could not handle a message asking for approval; Slack will send it again', {
        error: apiMessageOf(error),
      });
      return { status: 500, body: 'try again' };
    }
  }

  /** Every intake with its channel's id; `#name`s are resolved through Slack (cached). */
  async #resolvedIntakes(): Promise<ResolvedIntake[]> {
    return Promise.all(
      this.#deps.intakes.list().map(async (intake) => ({
        intake,
        channelId: await this.#deps.web.channelId(intake.spec.slack.channel),
      })),
    );
  }

  async #create(request: IntakeRequest, logger: Logger): Promise<EventAnswer> {
    const { api } = this.#deps;
    const fields = { namespace: request.namespace, name: request.name, requester: request.spec.requester };
    try {
      await api.createRequest(request.namespace, request.name, request.spec, {
        labels: { ...request.labels },
        annotations: { ...request.annotations },
      });
      this.#count('created');
      logger.info('Created an ApprovalRequest from Slack', { ...fields, action: request.spec.action });
      return OK;
    } catch (error) {
      if (isConflict(error)) return this.#existing(request, logger);
      if (statusCodeOf(error) === 422) {
        // The API server's own rules (a CEL rule offline validation does not run): the field is named.
        this.#refuseRequest(request, 'invalid', apiMessageOf(error), logger);
        return OK;
      }
      throw error;
    }
  }

  /** The request exists: made from this very message before (a retry, a restart), or a name clash. */
  async #existing(request: IntakeRequest, logger: Logger): Promise<EventAnswer> {
    const existing: ApprovalRequest = await this.#deps.api.getRequest(request.namespace, request.name);
    const theirs = askingThread(existing);
    const ours = askingThread({ metadata: { annotations: request.annotations }, spec: request.spec });
    if (theirs?.channel === ours?.channel && theirs?.ts === ours?.ts) {
      this.#count('duplicate');
      logger.info('This message already made its ApprovalRequest', {
        namespace: request.namespace,
        name: request.name,
      });
      return OK;
    }
    this.#refuseRequest(
      request,
      'refused',
      `an ApprovalRequest named ${request.namespace}/${request.name} exists and was not made from this message`,
      logger,
    );
    return OK;
  }

  #refuseRequest(request: IntakeRequest, result: 'refused' | 'invalid', why: string, logger: Logger): void {
    const asking = askingThread({ metadata: { annotations: request.annotations }, spec: request.spec });
    if (!asking) return;
    this.#refuse({ channel: asking.channel, ts: asking.ts, threadTs: asking.threadTs }, result, why, logger);
  }

  /** Refused or invalid: counted, logged, answered in the thread with the reason; nothing is created. */
  #refuse(
    message: Pick<AskingMessage, 'channel' | 'ts' | 'threadTs'>,
    result: 'refused' | 'invalid',
    why: string,
    logger: Logger,
  ): void {
    this.#count(result);
    logger.info('Refused a message asking for approval', { result, why });
    const uid = refusalUid(message.channel, message.ts);
    this.#deps.submit([
      reactionIntent(uid, message, 'Refused'),
      {
        kind: 'refusal',
        key: refusalKey(message.channel, message.ts),
        channel: message.channel,
        uid,
        threadTs: message.threadTs,
        message: refusalReply(result, why),
        metadata: { event_type: REFUSED_EVENT, event_payload: { result, reason: why, ts: message.ts } },
      },
    ]);
  }

  #count(result: IntakeResult): void {
    this.#deps.metrics.recordSlackIntake(result);
  }

  #remember(key: string): void {
    const now = Date.now();
    this.#handled.set(key, now);
    for (const [old, at] of this.#handled) {
      if (this.#handled.size <= REMEMBER_MAX && now - at < REMEMBER_MS) break;
      this.#handled.delete(old);
    }
  }
}
