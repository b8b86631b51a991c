import Type, { type Static } from 'typebox';
import type { API_VERSION } from './schema.ts';
import { Conditions, Duration, type ObjectMeta } from './schema.ts';

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

/** Slack ids as Slack writes them: bots B…, apps A…, users U… or W… (Enterprise Grid). */
const SLACK_BOT_ID = '^B[A-Z0-9]{2,31}$';
const SLACK_APP_ID = '^A[A-Z0-9]{2,31}$';
const SLACK_USER_ID = '^[UW][A-Z0-9]{2,31}$';

function ids(pattern: string, description: string) {
  return Type.Array(Type.String({ pattern, maxLength: 32 }), {
    description,
    maxItems: 256,
    'x-kubernetes-list-type': 'set',
  });
}

export const SendersSchema = Type.Object(
  {
    slackBots: Type.Optional(
      ids(
        SLACK_BOT_ID,
        'Bot ids (B…) that may ask: a message posted by one of these bots becomes a request with requester slack:<bot id>.',
      ),
    ),
    slackApps: Type.Optional(
      ids(
        SLACK_APP_ID,
        'App ids (A…) that may ask, whichever of the app’s bots posts: requester slack:<app id>.',
      ),
    ),
    slackUsers: Type.Optional(
      ids(
        SLACK_USER_ID,
        'User ids (U… or W…) that may ask, posting with their own token: requester slack:<user id>.',
      ),
    ),
  },
  {
    description:
      'Who may ask in the channel. A message from anyone else is refused, with a reply in its thread that ' +
      'says why. Matched in this order: bot, app, user; the first match names the requester.',
    additionalProperties: false,
    'x-kubernetes-validations': [
      {
        rule:
          '(has(self.slackBots) && size(self.slackBots) > 0) || (has(self.slackApps) && size(self.slackApps) > 0) || ' +
          '(has(self.slackUsers) && size(self.slackUsers) > 0)',
        message: 'senders must name at least one Slack bot, app or user',
      },
    ],
  },
);
export type Senders = Static<typeof SendersSchema>;

export const ApprovalIntakeSpecSchema = Type.Object(
  {
    slack: Type.Object(
      {
        channel: Type.String({
          description:
            'The channel Greenlight listens to, as #name or id (C…, G…). Invite Greenlight’s bot to it.',
          minLength: 1,
          maxLength: 80,
          pattern: '^(#[^\\s#,]+|[CG][A-Z0-9]{2,31})$',
        }),
      },
      { description: 'Where machines ask.', additionalProperties: false },
    ),
    senders: SendersSchema,
    defaults: Type.Optional(
      Type.Object(
        {
          timeout: Type.Optional(
            Duration({
              description:
                'The timeout of a request whose message names none (90s, 30m, 24h); capped by the policy as usual.',
            }),
          ),
        },
        {
          description: 'What a request gets when its message leaves a field out.',
          additionalProperties: false,
        },
      ),
    ),
  },
  { description: 'Where machines ask through Slack, and who may.', additionalProperties: false },
);
export type ApprovalIntakeSpec = Static<typeof ApprovalIntakeSpecSchema>;

export const ApprovalIntakeStatusSchema = Type.Object(
  {
    observedGeneration: Type.Optional(
      Type.Integer({
        format: 'int64',
        minimum: 0,
        description: 'The metadata.generation this status describes.',
      }),
    ),
    channelId: Type.Optional(
      Type.String({ description: 'The Slack id of spec.slack.channel, once found.', maxLength: 64 }),
    ),
    conditions: Type.Optional(
      Conditions(
        'Ready: True when Greenlight listens to the channel; False when the channel cannot be found, the bot ' +
          'is not in it, another intake has it, or Slack is not configured.',
      ),
    ),
  },
  { description: 'Whether Greenlight listens to the channel.', additionalProperties: false },
);
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
