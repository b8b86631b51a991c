import type { ObjectCache } from '@kubernetes/client-node';
import type { ApprovalPolicy } from '../api/v1alpha1/approval-policy.ts';
import type { ApprovalRequest } from '../api/v1alpha1/approval-request.ts';
import { ConfigError } from '../errors.ts';
import type { AccessReviewer } from '../k8s/access-review.ts';
import { apiMessageOf, isConflict } from '../k8s/api-errors.ts';
import type { EventRecorder } from '../k8s/events.ts';
import type { GreenlightApi } from '../k8s/greenlight-api.ts';
import type { Logger } from '../observability/logger.ts';
import type { GreenlightMetrics } from '../observability/metrics.ts';
import { handleBlockAction, parseBlockAction, type InteractionDeps } from './interactions.ts';
import { SlackOutbox } from './outbox.ts';
import { SlackDirectory, type SlackPeople } from './people.ts';
import { planSlack } from './plan.ts';
import { startHttpReceiver, startSocketReceiver, type Receiver } from './receivers.ts';
import { SlackWeb } from './web.ts';

export interface SlackSettings {
  readonly botToken: string;
  readonly signingSecret: string | undefined;
  readonly appToken: string | undefined;
  readonly apiUrl: string | undefined;
}

/** Slack settings from the environment (the contract's variables); undefined without a bot token. */
export function slackSettingsFromEnv(env: NodeJS.ProcessEnv): SlackSettings | undefined {
  const botToken = env['SLACK_BOT_TOKEN'];
  if (!botToken) return undefined;
  if (env['SLACK_APP_TOKEN'] && !env['SLACK_APP_TOKEN'].startsWith('xapp-')) {
    throw new ConfigError('SLACK_APP_TOKEN must be an app-level token (xapp-…) with connections:write');
  }
  // An empty variable (a Secret key left blank) means unset.
  const set = (name: string): string | undefined => (env[name] === '' ? undefined : env[name]);
  return {
    botToken,
    signingSecret: set('SLACK_SIGNING_SECRET'),
    appToken: set('SLACK_APP_TOKEN'),
    apiUrl: set('SLACK_API_URL'),
  };
}

/** Decisions older than this are not (re-)announced after a restart: a chat would only be flooded. */
const RECENT_MS = 60 * 60_000;

export interface SlackIntegrationDeps {
  readonly settings: SlackSettings;
  readonly requests: ObjectCache<ApprovalRequest>;
  readonly policies: ObjectCache<ApprovalPolicy>;
  readonly api: GreenlightApi;
  readonly access: AccessReviewer;
  readonly events: EventRecorder;
  readonly metrics: GreenlightMetrics;
  readonly logger: Logger;
  /** `--slack-bind-address` for HTTP interactivity. */
  readonly bindAddress: string;
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
  readonly #byUid = new Map<string, { namespace: string; name: string }>();
  #leading = false;
  #receiver: Receiver | undefined;

  constructor(deps: SlackIntegrationDeps) {
    this.#deps = deps;
    const web = new SlackWeb({
      token: deps.settings.botToken,
      apiUrl: deps.settings.apiUrl,
      metrics: deps.metrics,
    });
    this.#web = web;
    this.people = new SlackDirectory(web, deps.access);
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
  }

  /** Starts interactivity. */
  async start(): Promise<void> {
    const { settings, logger } = this.#deps;
    const handle = (payload: unknown): Promise<void> => this.#interact(payload);
    if (settings.appToken) {
      this.#receiver = await startSocketReceiver({
        appToken: settings.appToken,
        apiUrl: settings.apiUrl,
        handle,
        logger,
      });
    } else if (settings.signingSecret) {
      this.#receiver = await startHttpReceiver({
        address: this.#deps.bindAddress,
        signingSecret: settings.signingSecret,
        handle,
        logger,
        refused: (result) => {
          this.#deps.metrics.recordSlackInteraction(result);
        },
      });
    } else {
      logger.warn(
        'Slack buttons are disabled: set SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode)',
      );
    }
  }

  async stop(): Promise<void> {
    this.#outbox.stop();
    await this.#receiver?.stop();
  }

  /** Only the leader posts; standbys start posting when they take over (their caches are warm). */
  setLeading(leading: boolean): void {
    this.#leading = leading;
    if (leading) for (const request of this.#deps.requests.list()) this.requestChanged(request);
  }

  /** Called for every change of a request (informer events and resyncs). */
  requestChanged(request: ApprovalRequest): void {
    const uid = request.metadata.uid;
    if (uid)
      this.#byUid.set(uid, {
        namespace: request.metadata.namespace ?? '',
        name: request.metadata.name ?? '',
      });
    if (!this.#leading || !this.#recent(request)) return;
    const namespace = request.metadata.namespace;
    this.#outbox.submit(planSlack(request, (name) => this.#deps.policies.get(name, namespace)));
  }

  #recent(request: ApprovalRequest): boolean {
    const decidedAt = request.status?.decision?.decidedAt;
    if (!decidedAt) return true;
    return (this.#deps.now?.() ?? new Date()).getTime() - new Date(decidedAt).getTime() < RECENT_MS;
  }

  #request(uid: string): ApprovalRequest | undefined {
    const where = this.#byUid.get(uid);
    const request = where && this.#deps.requests.get(where.name, where.namespace);
    return request?.metadata.uid === uid ? request : undefined;
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
