import type { ApprovalIntake, ApprovalIntakeStatus } from '../../api/v1alpha1/approval-intake.ts';
import { IntakeNotReadyReason } from '../../api/v1alpha1/approval-intake.ts';
import { setConditions, type DesiredCondition } from '../conditions.ts';

/** What the controller found out about an intake's channel. */
export type ChannelFacts =
  | { readonly kind: 'no-slack' }
  | { readonly kind: 'no-events' }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'not-member'; readonly id: string }
  | { readonly kind: 'taken'; readonly id: string; readonly by: string }
  | { readonly kind: 'unavailable'; readonly error: string }
  | { readonly kind: 'listening'; readonly id: string };

function senderCount(intake: ApprovalIntake): number {
  const { slackBots = [], slackApps = [], slackUsers = [] } = intake.spec.senders;
  return slackBots.length + slackApps.length + slackUsers.length;
}

/** The Ready condition for what was found. Pure. */
export function readyCondition(intake: ApprovalIntake, facts: ChannelFacts): DesiredCondition {
  const channel = intake.spec.slack.channel;
  const notReady = (reason: string, message: string): DesiredCondition => ({
    type: 'Ready',
    status: 'False',
    reason,
    message,
  });
  switch (facts.kind) {
    case 'no-slack':
      return notReady(
        IntakeNotReadyReason.SlackNotConfigured,
        'the controller runs without Slack (SLACK_BOT_TOKEN is not set): nothing is received from any channel',
      );
    case 'no-events':
      return notReady(
        IntakeNotReadyReason.SlackNotConfigured,
        'the controller receives no Slack events: set SLACK_SIGNING_SECRET (HTTP, Request URL …/slack/events) ' +
          'or SLACK_APP_TOKEN (Socket Mode)',
      );
    case 'not-found':
      return notReady(
        IntakeNotReadyReason.ChannelNotFound,
        `Slack knows no channel ${channel} that Greenlight can see (a private channel is visible once Greenlight's ` +
          'bot is invited)',
      );
    case 'not-member':
      return notReady(
        IntakeNotReadyReason.NotInChannel,
        `Greenlight's bot is not in ${channel} (${facts.id}), so Slack sends it nothing from there: /invite it`,
      );
    case 'taken':
      return notReady(
        IntakeNotReadyReason.ChannelTaken,
        `ApprovalIntake ${facts.by}, older, listens to ${channel} (${facts.id}); a channel has one intake`,
      );
    case 'unavailable':
      return {
        type: 'Ready',
        status: 'Unknown',
        reason: IntakeNotReadyReason.SlackUnavailable,
        message: `could not ask Slack about ${channel}: ${facts.error}; trying again`,
      };
    case 'listening':
      return {
        type: 'Ready',
        status: 'True',
        reason: 'Listening',
        message: `listening to ${channel} (${facts.id}) for ${senderCount(intake)} sender(s)`,
      };
  }
}

export function intakeStatus(intake: ApprovalIntake, facts: ChannelFacts, now: Date): ApprovalIntakeStatus {
  const generation = intake.metadata.generation ?? 1;
  const id = 'id' in facts ? facts.id : undefined;
  return {
    observedGeneration: generation,
    ...(id === undefined ? {} : { channelId: id }),
    conditions: setConditions(intake.status?.conditions, [readyCondition(intake, facts)], generation, now),
  };
}
