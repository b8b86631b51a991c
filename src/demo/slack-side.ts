import { LogLevel, WebClient } from '@slack/web-api';
import type { ApprovalRequest } from '../api/v1alpha1/approval-request.ts';
import { REQUESTED_EVENT } from '../slack/intake.ts';
import type { GreenlightMetrics } from '../observability/metrics.ts';
import { ActionId, buttonValue } from '../slack/messages.ts';
import type { SlackEmulator } from '../../test/slack-emulator/index.ts';
import { slackLine } from './slack-view.ts';
import type { SlackSide } from './workflows.ts';

const SETTLE_MS = 10_000;
/** Greenlight posts at most about once a second per channel: this much silence means it is done. */
const QUIET_MS = 1_500;

/** The demo's view of Slack: what the emulator received, and Alice's clicks delivered as Slack does. */
export function emulatorSlackSide(
  slack: SlackEmulator,
  eventsUrl: string,
  metrics: GreenlightMetrics,
): SlackSide {
  const shown = new Map<string, number>(); // message ts → versions already printed
  const channelName = (id: string): string =>
    `#${slack.workspace.channels.find((c) => c.id === id)?.name ?? id}`;
  const unseen = (): string[] => {
    const lines: string[] = [];
    for (const message of slack.messages()) {
      const printed = shown.get(message.ts) ?? 0;
      if (printed >= message.history.length) continue;
      shown.set(message.ts, message.history.length);
      const where = `${channelName(message.channel)}${message.threadTs ? ' (thread)' : printed > 0 ? ' (updated)' : ''}`;
      lines.push(`Slack ${where}: ${slackLine(message)}`);
    }
    return lines;
  };
  const versions = (): number => slack.messages().reduce((sum, message) => sum + message.history.length, 0);
  const outboxEmpty = async (): Promise<boolean> =>
    /^greenlight_slack_outbox_depth 0$/m.test((await metrics.metrics()).body);

  // The payments system's bot, in the emulator's workspace, posting with its own token.
  const paymentsBot = new WebClient('xoxb-payments-bot', {
    slackApiUrl: slack.apiUrl,
    retryConfig: { retries: 0 },
    logLevel: LogLevel.ERROR,
  });

  return {
    async ask(channel: string, text: string, payload: Readonly<Record<string, unknown>>) {
      const posted = await paymentsBot.chat.postMessage({
        channel,
        text,
        // The SDK's type allows one level of objects; the payload's parameters are one.
        metadata: { event_type: REQUESTED_EVENT, event_payload: payload as Record<string, string> },
      });
      shown.set(posted.ts ?? '', 1); // the demo prints the ask itself
      return { channel: posted.channel ?? channel, ts: posted.ts ?? '' };
    },
    /** Waits until Slack has been quiet for a moment with Greenlight's outbox empty, then prints what arrived. */
    async news() {
      const deadline = Date.now() + SETTLE_MS;
      for (let seen = versions(); Date.now() < deadline; seen = versions()) {
        const changed = await slack
          .waitFor(() => versions() > seen, QUIET_MS)
          .then(
            () => true,
            () => false,
          );
        if (!changed && (await outboxEmpty())) break;
      }
      return unseen();
    },
    async approve(request: ApprovalRequest, slackUser: string) {
      const tracking = await slack.waitFor(
        () =>
          slack
            .messages()
            .find((m) => !m.threadTs && JSON.stringify(m.blocks ?? []).includes(ActionId.Approve)),
        SETTLE_MS,
        'the escalation message',
      );
      await slack.click({
        via: 'http',
        requestUrl: eventsUrl,
        user: slackUser,
        actionId: ActionId.Approve,
        value: buttonValue(request),
        channel: tracking.channel,
        messageTs: tracking.ts,
      });
    },
  };
}
