import type { Static } from 'typebox';
import type { API_VERSION, ObjectMeta } from './schema.ts';
import type {
  SendersSchema,
  ApprovalIntakeSpecSchema,
  ApprovalIntakeStatusSchema,
} from './schemas/approval-intake.ts';

export const APPROVAL_INTAKE_KIND = 'ApprovalIntake';
export const APPROVAL_INTAKE_PLURAL = 'approvalintakes';

export const IntakeConditionType = { Ready: 'Ready' } as const;

/** Why an intake is not Ready: what its Ready condition's reason says. */
export const IntakeNotReadyReason = {
  /** The controller runs without Slack (no SLACK_BOT_TOKEN), or without a way to receive events. */
  SlackNotConfigured: 'SlackNotConfigured',
  ChannelNotFound: 'ChannelNotFound',
  NotInChannel: 'NotInChannel',
  /** Another intake, older, listens to the same channel. */
  ChannelTaken: 'ChannelTaken',
  /** Slack could not be asked; the controller tries again. */
  SlackUnavailable: 'SlackUnavailable',
} as const;

export type Senders = Static<typeof SendersSchema>;

export type ApprovalIntakeSpec = Static<typeof ApprovalIntakeSpecSchema>;

export type ApprovalIntakeStatus = Static<typeof ApprovalIntakeStatusSchema>;

export interface ApprovalIntake {
  apiVersion: typeof API_VERSION;
  kind: typeof APPROVAL_INTAKE_KIND;
  metadata: ObjectMeta;
  spec: ApprovalIntakeSpec;
  status?: ApprovalIntakeStatus;
}

/** What an ApprovalRequest made from a Slack message carries, so anyone can find the message. */
export const IntakeLabel = 'greenlight.dev/intake';
export const SlackChannelAnnotation = 'greenlight.dev/slack-channel';
export const SlackTsAnnotation = 'greenlight.dev/slack-ts';
/** Set when the asking message is itself a reply: the thread it was posted in, where Greenlight answers. */
export const SlackThreadTsAnnotation = 'greenlight.dev/slack-thread-ts';
/**
 * The Slack user who posted the message (a bot's own user for a bot): with its linked Kubernetes
 * user, the person who asked, who never approves their own request (docs/security.md).
 */
export const SlackUserAnnotation = 'greenlight.dev/slack-user';

/** Labels and annotations only the controller may set on a request, and nobody may change. */
export const SLACK_ORIGIN_LABELS: readonly string[] = [IntakeLabel];
export const SLACK_ORIGIN_ANNOTATIONS: readonly string[] = [
  SlackChannelAnnotation,
  SlackTsAnnotation,
  SlackThreadTsAnnotation,
  SlackUserAnnotation,
];

/** The requester prefix of requests made through Slack intake; only the controller may create them. */
export const SLACK_REQUESTER_PREFIX = 'slack:';
