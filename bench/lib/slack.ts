/**
 * Slack cost: the same throughput run four times with a policy that announces every outcome in Slack:
 * without Slack configured, against the Slack emulator (test/slack-emulator, with Slack's own
 * 1 message/s/channel limit) through SLACK_API_URL, again against it, and again without — off, on, on,
 * off, so that a drift in the shared machine's load weighs on both sides. The cost is the throughput
 * lost, mean against mean.
 */
import type * as SlackEmulatorModule from '../../test/slack-emulator/index.ts';
import type { BenchContext } from './context.ts';
import { measureRun, type Decider, type RunResult, type Schedule } from './runs.ts';
import { round } from './stats.ts';

export interface SlackResult {
  readonly status: 'measured' | 'pending';
  readonly reason?: string;
  readonly off?: readonly RunResult[];
  readonly on?: readonly RunResult[];
  /** 1 − mean on / mean off throughput, in percent. */
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
    const slackOff: Decider = { kind: 'greenlight', notify: true };
    const off = [await measureRun(context, 'slack-off-1', slackOff, schedule)];
    const before = emulator.calls().length;
    const postedBefore = emulator.calls('chat.postMessage').length;
    const on = [
      await measureRun(context, 'slack-on-1', slackOn, schedule),
      await measureRun(context, 'slack-on-2', slackOn, schedule),
    ];
    const slackCalls = emulator.calls().length - before;
    const messagesPosted = emulator.calls('chat.postMessage').length - postedBefore;
    off.push(await measureRun(context, 'slack-off-2', slackOff, schedule));
    const throughput = (runs: readonly RunResult[]): number =>
      runs.reduce((sum, run) => sum + run.decisionsPerSecond, 0) / runs.length;
    return {
      status: 'measured',
      off,
      on,
      costPercent: round((1 - throughput(on) / throughput(off)) * 100),
      slackCalls,
      messagesPosted,
      rateLimited: emulator.rateLimited(),
    };
  } finally {
    await emulator.close();
  }
}
