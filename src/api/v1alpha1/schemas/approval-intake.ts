import Type from 'typebox';
import { Duration, Conditions } from './building-blocks.ts';

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
