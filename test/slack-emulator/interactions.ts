import { createHmac, randomBytes } from 'node:crypto';
import type { JsonObject } from './json.ts';
import { IDENTITY } from './workspace.ts';

/** Slack's deadline for answering an interaction request. */
export const INTERACTION_DEADLINE_MS = 3000;

/** The headers Slack signs a request with. */
export interface SlackSignatureHeaders {
  readonly 'X-Slack-Signature': string;
  readonly 'X-Slack-Request-Timestamp': string;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** `v0=hex(HMAC-SHA256(secret, "v0:<timestamp>:<body>"))`, as Slack signs requests to apps. */
export function slackSignature(body: string, signingSecret: string, timestampSeconds: number): string {
  const digest = createHmac('sha256', signingSecret).update(`v0:${timestampSeconds}:${body}`).digest('hex');
  return `v0=${digest}`;
}

export function signedRequest(
  body: string,
  signingSecret: string,
  timestampSeconds: number = nowSeconds(),
): SlackSignatureHeaders {
  return {
    'X-Slack-Signature': slackSignature(body, signingSecret, timestampSeconds),
    'X-Slack-Request-Timestamp': String(timestampSeconds),
  };
}

/** The body Slack posts to an app's request URL: one form field, `payload`, holding the JSON. */
export function interactionBody(payload: JsonObject): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export interface BlockActionsInput {
  readonly user: { readonly id: string; readonly name: string };
  readonly actionId: string;
  readonly value: string;
  readonly channel: { readonly id: string; readonly name: string };
  readonly message: { readonly ts: string; readonly text: string; readonly blocks?: readonly JsonObject[] };
  readonly responseUrl?: string;
  readonly blockId?: string;
  readonly actionTs?: string;
}

function triggerId(): string {
  return `${Date.now()}.${IDENTITY.teamId}.${randomBytes(16).toString('hex')}`;
}

function actionTs(): string {
  return (Date.now() / 1000).toFixed(6);
}

/** A `block_actions` payload for a click on a button of a bot message, shaped as Slack sends it. */
export function blockActionsPayload(input: BlockActionsInput): JsonObject {
  const messageBlocks = input.message.blocks ?? [];
  return {
    type: 'block_actions',
    user: { id: input.user.id, username: input.user.name, name: input.user.name, team_id: IDENTITY.teamId },
    api_app_id: IDENTITY.appId,
    token: 'emulator-verification-token',
    trigger_id: triggerId(),
    team: { id: IDENTITY.teamId, domain: IDENTITY.teamDomain },
    enterprise: null,
    is_enterprise_install: false,
    container: {
      type: 'message',
      message_ts: input.message.ts,
      channel_id: input.channel.id,
      is_ephemeral: false,
    },
    channel: { id: input.channel.id, name: input.channel.name },
    message: {
      type: 'message',
      user: IDENTITY.botUserId,
      bot_id: IDENTITY.botId,
      app_id: IDENTITY.appId,
      ts: input.message.ts,
      text: input.message.text,
      blocks: messageBlocks,
      team: IDENTITY.teamId,
    },
    state: { values: {} },
    response_url: input.responseUrl ?? `https://hooks.slack.com/actions/${IDENTITY.teamId}/0/emulator`,
    actions: [
      {
        type: 'button',
        action_id: input.actionId,
        block_id: input.blockId ?? 'greenlight_actions',
        text: { type: 'plain_text', text: input.actionId, emoji: true },
        value: input.value,
        action_ts: input.actionTs ?? actionTs(),
      },
    ],
  };
}

/** An HTTP request as Slack would send it to an app; kept so a test can send it again (a replay). */
export interface InteractionRequest {
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

export function signedInteraction(
  payload: JsonObject,
  signingSecret: string,
  timestampSeconds: number = nowSeconds(),
): InteractionRequest {
  const body = interactionBody(payload);
  return {
    body,
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      'User-Agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      ...signedRequest(body, signingSecret, timestampSeconds),
    },
  };
}

export interface InteractionResponse {
  /** The app's HTTP status; 0 when it did not answer within the deadline. */
  readonly status: number;
  readonly body: string;
  readonly ms: number;
  readonly timedOut: boolean;
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

/** POSTs an interaction to an app's request URL and waits for its answer at most `deadlineMs`, like Slack. */
export async function deliverInteraction(
  requestUrl: string,
  request: InteractionRequest,
  deadlineMs: number = INTERACTION_DEADLINE_MS,
): Promise<InteractionResponse> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  try {
    const response = await fetch(requestUrl, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(deadlineMs),
    });
    const body = await response.text();
    return { status: response.status, body, ms: elapsed(), timedOut: false };
  } catch (error) {
    if (isTimeout(error)) return { status: 0, body: '', ms: elapsed(), timedOut: true };
    throw error;
  }
}
