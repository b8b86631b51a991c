import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/observability/logger.ts';
import { startSocketReceiver } from '../src/slack/receivers.ts';
import { startSlackEmulator } from './slack-emulator/index.ts';
import { eventually } from './support/eventually.ts';

describe('the Socket Mode receiver', () => {
  it('acks a click whose handling fails, logs why, and goes on handling the next', async (context) => {
    const slack = await startSlackEmulator({ socketPingIntervalMs: 0 });
    context.onTestFinished(() => slack.close());
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    const handled: unknown[] = [];
    const receiver = await startSocketReceiver({
      appToken: slack.workspace.appToken,
      apiUrl: slack.apiUrl,
      handle: (payload) => {
        handled.push(payload);
        return handled.length === 1
          ? Promise.reject(new Error('the API server refused the answer'))
          : Promise.resolve();
      },
      handleEvent: () => Promise.resolve({ status: 200, body: '' }),
      logger: createLogger({ format: 'json', level: 'info', stream }),
    });
    context.onTestFinished(() => receiver.stop());
    const click = (user: string) =>
      slack.sendInteractive(
        slack.blockActionsPayload({
          user,
          actionId: 'greenlight_approve',
          value: 'payments/r1/uid-1',
          channel: 'C0PAYMENTS',
          messageTs: '1700000000.000100',
        }),
      );

    expect((await click('U0ALICE')).envelope_id).toMatch(/.+/);
    await eventually(() => {
      expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toContainEqual(
        expect.objectContaining({
          msg: 'Could not handle a Slack interaction',
          error: 'the API server refused the answer',
        }),
      );
    });
    expect((await click('U0BOB')).envelope_id).toMatch(/.+/);
    await eventually(() => {
      expect(handled).toMatchObject([{ user: { id: 'U0ALICE' } }, { user: { id: 'U0BOB' } }]);
    });
  });
});
