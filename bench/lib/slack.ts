/**
 * Slack cost: the same throughput run twice, back to back, with a policy that announces every outcome
 * in Slack: once without Slack configured, once against the Slack emulator (test/slack-emulator, with
 * Slack's own 1 message/s/channel limit) through SLACK_API_URL. The cost is the throughput lost.
 */
import type * as SlackEmulatorModule from '../../test/slack-emulator/index.ts';
import type { BenchContext } from './context.ts';
import { measureRun, type Decider, type RunResult, type Schedule } from './runs.ts';
import { round } from './stats.ts';

export interface SlackResult {
  readonly status: 'measured' | 'pending';
  readonly reason?: string;
  readonly off?: RunResult;
  readonly on?: RunResult;
  /** 1 − on/off throughput, in percent. */
  readonly costPercent?: number;
  /** Web API calls the controller made during the Slack-on run, and how many were chat.postMessage. */
  readonly slackCalls?: number;
  readonly messagesPosted?: number;
  readonly rateLimited?: number;
}

export async function measureSlack(context: BenchContext, schedule: Schedule): Promise<SlackResult> {
  let emulatorModule: typeof SlackEmulatorModule;
  try {
    emulatorModule = await import('../../test/slack-emulator/index.ts');
  } catch (error) {
    return { status: 'pending', reason: `the Slack emulator cannot be loaded: ${String(error)}` };
  }
  const emulator = await emulatorModule.startSlackEmulator();
  try {
    const { botToken, signingSecret } = emulator.workspace;
    const slackOn: Decider = {
      kind: 'greenlight',
      notify: true,
      env: { SLACK_BOT_TOKEN: botToken, SLACK_SIGNING_SECRET: signingSecret, SLACK_API_URL: emulator.apiUrl },
    };
    // A cheap probe first: does this controller talk to Slack at all?
    await measureRun(context, 'slack-probe', slackOn, { kind: 'in-flight', count: 5, concurrency: 5 });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    if (emulator.calls().length === 0) {
      return {
        status: 'pending',
        reason:
          'pending: Slack integration (with SLACK_BOT_TOKEN and SLACK_API_URL pointing at the emulator and a ' +
          'policy that announces every outcome, the controller made no Slack call)',
        slackCalls: 0,
      };
    }
    const off = await measureRun(context, 'slack-off', { kind: 'greenlight', notify: true }, schedule);
    const before = emulator.calls().length;
    const postedBefore = emulator.calls('chat.postMessage').length;
    const on = await measureRun(context, 'slack-on', slackOn, schedule);
    return {
      status: 'measured',
      off,
      on,
      costPercent: round((1 - on.decisionsPerSecond / off.decisionsPerSecond) * 100),
      slackCalls: emulator.calls().length - before,
      messagesPosted: emulator.calls('chat.postMessage').length - postedBefore,
      rateLimited: emulator.rateLimited(),
    };
  } finally {
    await emulator.close();
  }
}
