import { SocketModeClient } from '@slack/socket-mode';
import { LogLevel, type Logger as SlackLogger } from '@slack/web-api';
import { startHttpServer, type RouteHandler, type RunningHttpServer } from '../observability/http.ts';
import type { Logger } from '../observability/logger.ts';
import type { SlackInteractionResult } from '../observability/metrics.ts';
import { ReplayGuard, verifySlackSignature } from './verify.ts';

/** Processes one interaction payload (after it was acknowledged). */
export type InteractionHandler = (payload: unknown) => Promise<void>;

/**
 * Processes one Events API payload before it is acknowledged: Slack gets 200 once the event is dealt
 * with for good, anything else makes it send the event again.
 */
export type EventHandler = (payload: unknown) => Promise<{ readonly status: number; readonly body: string }>;

/** Slack waits three seconds for an answer; past this, the event is answered 503 and Slack retries. */
const EVENT_BUDGET_MS = 2_500;

async function withinBudget(
  handling: Promise<{ readonly status: number; readonly body: string }>,
): Promise<{ readonly status: number; readonly body: string }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<{ status: number; body: string }>((resolve) => {
    timer = setTimeout(() => {
      resolve({ status: 503, body: 'still working on it; send it again' });
    }, EVENT_BUDGET_MS);
  });
  try {
    return await Promise.race([handling, late]);
  } finally {
    clearTimeout(timer);
  }
}

export interface Receiver {
  stop(): Promise<void>;
}

/** What the Slack route needs: the signing secret, the handlers, and where refusals are told. */
export interface SlackRouteOptions {
  readonly signingSecret: string;
  readonly handle: InteractionHandler;
  readonly handleEvent: EventHandler;
  readonly refused: (result: SlackInteractionResult) => void;
  readonly logger: Logger;
  readonly now?: () => number;
}

/**
 * `POST /slack/events` for HTTP interactivity and the Events API: signature checked on the raw body in
 * constant time, requests older than five minutes and replays refused. Clicks are acknowledged at
 * once (Slack waits three seconds at most) with the work done after; events are answered once dealt
 * with (a request created, a refusal decided), or with an error for Slack to retry.
 */
export function slackRoute(options: SlackRouteOptions): RouteHandler {
  const replays = new ReplayGuard();
  const nowSeconds = (): number => Math.floor((options.now?.() ?? Date.now()) / 1000);
  return async (request) => {
    const header = (name: string): string | undefined => {
      const value = request.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const signature = header('x-slack-signature');
    const verdict = verifySlackSignature({
      signingSecret: options.signingSecret,
      timestamp: header('x-slack-request-timestamp'),
      signature,
      rawBody: Buffer.from(request.body, 'utf8'),
      nowSeconds: nowSeconds(),
    });
    // Slack retries an event with the same body, within the same second maybe, so with the same
    // signature: events are not refused as replays (handling one twice changes nothing, its
    // request is named from the message); clicks are.
    const isEvent = header('content-type')?.startsWith('application/json') === true;
    if (verdict !== 'ok' || (!isEvent && !replays.firstTime(signature ?? '', nowSeconds()))) {
      const result = verdict === 'bad_signature' ? 'bad_signature' : 'stale';
      options.refused(result);
      options.logger.warn('Refused a Slack request', { result });
      return { status: 401, body: 'invalid request signature or timestamp' };
    }
    if (isEvent) {
      const event = parseJson(request.body);
      if (!isObject(event)) return malformed('an Events API body must be a JSON object', options.logger);
      const answer = await withinBudget(options.handleEvent(event));
      return { status: answer.status, body: answer.body };
    }
    const form = new URLSearchParams(request.body).get('payload');
    if (form === null) return malformed('an interaction needs a payload form field', options.logger);
    const payload = parseJson(form);
    if (!isObject(payload)) return malformed('the payload field must be a JSON object', options.logger);
    // Detached (the click is acknowledged at once): a failure must not become an unhandled rejection,
    // which would end the process.
    void (async () => {
      await options.handle(payload);
    })().catch((error: unknown) => {
      options.logger.error('Could not handle a Slack interaction', {
        error: error instanceof Error ? error.message : String(error),
      });
    });
    return { status: 200, body: '' };
  };
}

/** Signed, so from Slack or someone with its secret, but no shape Slack sends: said, never handled. */
function malformed(why: string, logger: Logger): { status: number; body: string } {
  logger.warn('Refused a malformed Slack request', { why });
  return { status: 400, body: why };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** HTTP interactivity and the Events API on `address`, at `POST /slack/events` (see slackRoute). */
export async function startHttpReceiver(
  options: SlackRouteOptions & { readonly address: string },
): Promise<(Receiver & { readonly port: number }) | undefined> {
  const server: RunningHttpServer | undefined = await startHttpServer({
    address: options.address,
    onError: (error) => {
      options.logger.error('Slack receiver error', {
        error: error instanceof Error ? error.message : String(error),
      });
    },
    routes: { '/slack/events': { POST: slackRoute(options) } },
  });
  return server && { port: server.port, stop: () => server.close() };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Socket Mode (when SLACK_APP_TOKEN is set): interactions and events arrive over a WebSocket Greenlight
 * opens. An event is acked once dealt with; one not acked is sent again by Slack.
 */
export async function startSocketReceiver(options: {
  readonly appToken: string;
  readonly apiUrl: string | undefined;
  readonly handle: InteractionHandler;
  readonly handleEvent: EventHandler;
  readonly logger: Logger;
}): Promise<Receiver> {
  const logger = options.logger;
  const sdkLogger: SlackLogger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (...messages: unknown[]) => {
      logger.warn('Slack Socket Mode', { detail: messages.map(String).join(' ') });
    },
    error: (...messages: unknown[]) => {
      logger.error('Slack Socket Mode', { detail: messages.map(String).join(' ') });
    },
    setLevel: () => undefined,
    getLevel: () => LogLevel.WARN,
    setName: () => undefined,
  };
  const client = new SocketModeClient({
    appToken: options.appToken,
    logger: sdkLogger,
    ...(options.apiUrl
      ? {
          clientOptions: {
            slackApiUrl: options.apiUrl.endsWith('/') ? options.apiUrl : `${options.apiUrl}/`,
          },
        }
      : {}),
  });
  client.on('interactive', ({ ack, body }: { ack: () => Promise<void>; body: unknown }) => {
    // Acked first (Slack wants an answer within 3 s); what the click leads to is carried out after,
    // and a failure there is logged: a rejection nobody catches would end the process.
    void ack()
      .then(() => options.handle(body))
      .catch((error: unknown) => {
        logger.error('Could not handle a Slack interaction', {
          error: error instanceof Error ? error.message : String(error),
        });
      });
  });
  client.on(
    'slack_event',
    ({ ack, type, body }: { ack: () => Promise<void>; type: string; body: unknown }) => {
      if (type !== 'events_api') return;
      void options
        .handleEvent(body)
        .then(async (answer) => {
          if (answer.status === 200) await ack();
        })
        .catch((error: unknown) => {
          // Not acked: Slack sends the event again.
          logger.warn('Could not acknowledge a Slack event', {
            error: error instanceof Error ? error.message : String(error),
          });
        });
    },
  );
  await client.start();
  logger.info('Connected to Slack over Socket Mode');
  return {
    stop: async () => {
      await client.disconnect();
    },
  };
}
