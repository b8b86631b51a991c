import { SocketModeClient } from '@slack/socket-mode';
import { LogLevel, type Logger as SlackLogger } from '@slack/web-api';
import { startHttpServer, type RunningHttpServer } from '../observability/http.ts';
import type { Logger } from '../observability/logger.ts';
import type { SlackInteractionResult } from '../observability/metrics.ts';
import { ReplayGuard, verifySlackSignature } from './verify.ts';

/** Processes one interaction payload (after it was acknowledged). */
export type InteractionHandler = (payload: unknown) => Promise<void>;

export interface Receiver {
  stop(): Promise<void>;
}

/**
 * HTTP interactivity: `POST /slack/events`, signature checked on the raw body in constant time,
 * requests older than five minutes and replays refused, and every accepted request acknowledged at
 * once (Slack waits three seconds at most) with the work done after.
 */
export async function startHttpReceiver(options: {
  readonly address: string;
  readonly signingSecret: string;
  readonly handle: InteractionHandler;
  readonly refused: (result: SlackInteractionResult) => void;
  readonly logger: Logger;
  readonly now?: () => number;
}): Promise<(Receiver & { readonly port: number }) | undefined> {
  const replays = new ReplayGuard();
  const nowSeconds = (): number => Math.floor((options.now?.() ?? Date.now()) / 1000);
  const server: RunningHttpServer | undefined = await startHttpServer({
    address: options.address,
    onError: (error) => {
      options.logger.error('Slack receiver error', {
        error: error instanceof Error ? error.message : String(error),
      });
    },
    routes: {
      '/slack/events': {
        POST: (request) => {
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
          if (verdict !== 'ok' || !replays.firstTime(signature ?? '', nowSeconds())) {
            const result = verdict === 'bad_signature' ? 'bad_signature' : 'stale';
            options.refused(result);
            options.logger.warn('Refused a Slack request', { result });
            return { status: 401, body: 'invalid request signature or timestamp' };
          }
          const form = new URLSearchParams(request.body);
          const payload = form.get('payload');
          if (payload === null) {
            const challenge = parseJson(request.body) as { type?: unknown; challenge?: unknown } | undefined;
            if (challenge?.type === 'url_verification' && typeof challenge.challenge === 'string') {
              return { status: 200, body: challenge.challenge };
            }
            return { status: 200, body: '' };
          }
          void options.handle(parseJson(payload));
          return { status: 200, body: '' };
        },
      },
    },
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

/** Socket Mode (when SLACK_APP_TOKEN is set): interactions arrive over a WebSocket Greenlight opens. */
export async function startSocketReceiver(options: {
  readonly appToken: string;
  readonly apiUrl: string | undefined;
  readonly handle: InteractionHandler;
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
    void ack().then(() => options.handle(body));
  });
  await client.start();
  logger.info('Connected to Slack over Socket Mode');
  return {
    stop: async () => {
      await client.disconnect();
    },
  };
}
