import {
  IntakeLabel,
  SLACK_REQUESTER_PREFIX,
  SlackChannelAnnotation,
  SlackThreadTsAnnotation,
  SlackTsAnnotation,
  SlackUserAnnotation,
  type ApprovalIntake,
} from '../api/v1alpha1/approval-intake.ts';
import type { ApprovalRequestSpec } from '../api/v1alpha1/approval-request.ts';
import { byCodeUnits } from '../compare.ts';

/**
 * Slack intake, decided from facts alone (pure): what a Slack `message` event is, whether a machine
 * is asking, which intake listens, whether the sender may ask there, whether the payload is a
 * request, and the request it makes. The edges (receiving events, creating the request, replying)
 * are in intake-handler.ts.
 */

/** The metadata event type a machine asks with, and the one Greenlight answers with. */
export const REQUESTED_EVENT = 'greenlight_approval_requested';
export const DECIDED_EVENT = 'greenlight_approval_decided';
/** Greenlight's answer to a message it refused (an addition to the contract's two event types). */
export const REFUSED_EVENT = 'greenlight_approval_refused';

/** Who posted a message: a bot (with its bot user and app) or a person. */
export interface Sender {
  readonly user: string | undefined;
  readonly botId: string | undefined;
  readonly appId: string | undefined;
}

/** A message asking Greenlight for something, as read from a `message` event. */
export interface AskingMessage {
  readonly eventId: string | undefined;
  readonly channel: string;
  readonly ts: string;
  /** Where to answer: the message's thread (its own ts, or its parent's when it is a reply). */
  readonly threadTs: string;
  readonly sender: Sender;
  /** The metadata's event_payload; undefined when Slack left it out (the app did not subscribe to it). */
  readonly payload: Readonly<Record<string, unknown>> | undefined;
}

/** Why an event is none of intake's business; never answered, never counted. */
export type Ignored =
  'not-an-event' | 'not-a-message' | 'edit-or-other-subtype' | 'greenlight-itself' | 'not-asking';

export type ParsedEvent =
  | { readonly kind: 'url_verification'; readonly challenge: string }
  | { readonly kind: 'asking'; readonly message: AskingMessage }
  | { readonly kind: 'ignored'; readonly why: Ignored };

/** Greenlight's own identity in Slack, to never act on what it posted itself. */
export interface OwnIdentity {
  readonly botUserId: string | undefined;
  readonly botId: string | undefined;
  readonly appId: string | undefined;
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

const record = (value: unknown): Readonly<Record<string, unknown>> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;

/** Message subtypes a person or a machine asks with: none (apps and people today) and bot_message (legacy bots). */
const ASKING_SUBTYPES = new Set([undefined, 'bot_message']);

/**
 * Reads an Events API payload (HTTP body or Socket Mode envelope payload). Only a new message carrying
 * `greenlight_approval_requested` metadata asks; edits, deletions, joins, Greenlight's own messages
 * and ordinary chat are ignored.
 */
export function parseEvent(payload: unknown, own: OwnIdentity): ParsedEvent {
  const body = record(payload);
  if (body?.['type'] === 'url_verification' && text(body['challenge']))
    return { kind: 'url_verification', challenge: String(body['challenge']) };
  const event = record(body?.['event']);
  if (body?.['type'] !== 'event_callback' || !event) return { kind: 'ignored', why: 'not-an-event' };
  if (event['type'] !== 'message') return { kind: 'ignored', why: 'not-a-message' };
  if (!ASKING_SUBTYPES.has(text(event['subtype']))) return { kind: 'ignored', why: 'edit-or-other-subtype' };
  const sender = senderOf(event);
  if (isGreenlight(sender, own, text(body['api_app_id'])))
    return { kind: 'ignored', why: 'greenlight-itself' };
  return askingMessage(event, sender, text(body['event_id']));
}

function senderOf(event: Readonly<Record<string, unknown>>): Sender {
  return {
    user: text(event['user']),
    botId: text(event['bot_id']),
    appId: text(event['app_id']) ?? text(record(event['bot_profile'])?.['app_id']),
  };
}

function askingMessage(
  event: Readonly<Record<string, unknown>>,
  sender: Sender,
  eventId: string | undefined,
): ParsedEvent {
  const metadata = record(event['metadata']);
  const channel = text(event['channel']);
  const ts = text(event['ts']);
  if (metadata?.['event_type'] !== REQUESTED_EVENT || !channel || !ts)
    return { kind: 'ignored', why: 'not-asking' };
  return {
    kind: 'asking',
    message: {
      eventId,
      channel,
      ts,
      threadTs: text(event['thread_ts']) ?? ts,
      sender,
      payload: record(metadata['event_payload']),
    },
  };
}

function isGreenlight(sender: Sender, own: OwnIdentity, appOfPayload: string | undefined): boolean {
  if (sender.appId !== undefined && (sender.appId === own.appId || sender.appId === appOfPayload))
    return true;
  if (sender.botId !== undefined && sender.botId === own.botId) return true;
  return sender.user !== undefined && sender.user === own.botUserId;
}

/** An intake and the Slack id its channel resolved to (undefined: it could not be resolved). */
export interface ResolvedIntake {
  readonly intake: ApprovalIntake;
  readonly channelId: string | undefined;
}

/**
 * The intake that listens to a channel: of those whose channel is it, the oldest (then by namespace
 * and name). The others are not Ready (ChannelTaken) and never take a message.
 */
export function intakeFor(intakes: readonly ResolvedIntake[], channelId: string): ApprovalIntake | undefined {
  return [...intakes]
    .filter((candidate) => candidate.channelId === channelId)
    .sort((a, b) => olderFirst(a.intake, b.intake))[0]?.intake;
}

export function olderFirst(a: ApprovalIntake, b: ApprovalIntake): number {
  const created = (intake: ApprovalIntake): number =>
    new Date(intake.metadata.creationTimestamp ?? 0).getTime();
  const key = (intake: ApprovalIntake): string =>
    `${intake.metadata.namespace ?? ''}/${intake.metadata.name ?? ''}`;
  return created(a) - created(b) || byCodeUnits(key(a), key(b));
}

/** How the sender may ask: the requester it asks as, and the Slack user behind it. */
export interface Admitted {
  readonly requester: string;
  readonly slackUser: string | undefined;
}

/**
 * Whether the intake lets the sender ask. Matched in a fixed order (bot id, app id, user id) and the
 * first match names the requester, so a policy selects the same sender the same way every time.
 */
export function admit(intake: ApprovalIntake, sender: Sender): Admitted | undefined {
  const { slackBots = [], slackApps = [], slackUsers = [] } = intake.spec.senders;
  const asRequester = (id: string): Admitted => ({
    requester: `${SLACK_REQUESTER_PREFIX}${id}`,
    slackUser: sender.user,
  });
  if (sender.botId !== undefined && slackBots.includes(sender.botId)) return asRequester(sender.botId);
  if (sender.appId !== undefined && slackApps.includes(sender.appId)) return asRequester(sender.appId);
  if (sender.user !== undefined && slackUsers.includes(sender.user)) return asRequester(sender.user);
  return undefined;
}

/** Who the sender is, in words: `bot B0PAYBOT (app A0PAYBOT)`, `<@U0ALICE>`. */
export function describeSender(sender: Sender): string {
  if (sender.botId !== undefined)
    return `bot ${sender.botId}${sender.appId === undefined ? '' : ` (app ${sender.appId})`}`;
  return sender.user === undefined ? 'an unknown sender' : `<@${sender.user}>`;
}

export type RequestedSpec = Omit<ApprovalRequestSpec, 'requester'>;

/**
 * The request's name, from the channel and the message's ts alone: a redelivered event, Slack's
 * retries and a restart all name the same request, which the API server creates once.
 * `C0PAYREQ` + `1700000000.000100` → `slack-c0payreq-1700000000-000100`.
 */
export function requestName(channel: string, ts: string): string {
  return `slack-${channel.toLowerCase()}-${ts.replace('.', '-')}`;
}

/** The request a message makes: its name, spec, and where it came from (labels and annotations). */
export interface IntakeRequest {
  readonly namespace: string;
  readonly name: string;
  readonly spec: ApprovalRequestSpec;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export function intakeRequest(
  intake: ApprovalIntake,
  message: AskingMessage,
  admitted: Admitted,
  spec: RequestedSpec,
): IntakeRequest {
  const timeout = spec.timeout ?? intake.spec.defaults?.timeout;
  return {
    namespace: intake.metadata.namespace ?? '',
    name: requestName(message.channel, message.ts),
    spec: {
      action: spec.action,
      ...(spec.resource === undefined ? {} : { resource: spec.resource }),
      ...(spec.parameters === undefined ? {} : { parameters: spec.parameters }),
      requester: admitted.requester,
      ...(spec.reason === undefined ? {} : { reason: spec.reason }),
      ...(timeout === undefined ? {} : { timeout }),
    },
    labels: { [IntakeLabel]: intake.metadata.name ?? '' },
    annotations: {
      [SlackChannelAnnotation]: message.channel,
      [SlackTsAnnotation]: message.ts,
      ...(message.threadTs === message.ts ? {} : { [SlackThreadTsAnnotation]: message.threadTs }),
      ...(admitted.slackUser === undefined ? {} : { [SlackUserAnnotation]: admitted.slackUser }),
    },
  };
}

/** The asking message of a Slack-born request, read back from its annotations, and its thread. */
export function askingThread(request: {
  readonly metadata: { readonly annotations?: Readonly<Record<string, string>> };
  readonly spec: { readonly requester?: string | undefined };
}): { readonly channel: string; readonly ts: string; readonly threadTs: string } | undefined {
  if (!(request.spec.requester ?? '').startsWith(SLACK_REQUESTER_PREFIX)) return undefined;
  const annotations = request.metadata.annotations ?? {};
  const channel = annotations[SlackChannelAnnotation];
  const ts = annotations[SlackTsAnnotation];
  return channel && ts ? { channel, ts, threadTs: annotations[SlackThreadTsAnnotation] ?? ts } : undefined;
}
