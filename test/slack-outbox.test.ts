import { WebClient } from '@slack/web-api';
import { afterAll, describe, expect, it } from 'vitest';
import type { ApprovalRequest } from '../src/api/v1alpha1/approval-request.ts';
import { createLogger } from '../src/observability/logger.ts';
import { GreenlightMetrics } from '../src/observability/metrics.ts';
import { SlackOutbox } from '../src/slack/outbox.ts';
import { planSlack, type SlackIntent } from '../src/slack/plan.ts';
import { SlackWeb } from '../src/slack/web.ts';
import { startSlackEmulator, type SlackEmulator } from './slack-emulator/index.ts';
import { eventually } from './support/eventually.ts';
import { Writable } from 'node:stream';

// The outbox against the Slack emulator, through the real @slack/web-api client: what it remembers of
// a request's messages, and that forgetting is real (a forgotten message would be posted again).

const emulators: SlackEmulator[] = [];
afterAll(async () => {
  await Promise.all(emulators.map((emulator) => emulator.close()));
});

function approved(uid: string, name: string): ApprovalRequest {
  return {
    apiVersion: 'greenlight.dev/v1alpha1',
    kind: 'ApprovalRequest',
    metadata: { name, namespace: 'finance', uid, creationTimestamp: '2026-11-26T10:00:00Z' },
    spec: { action: 'payment', resource: `invoice/${name}`, requester: 'system:serviceaccount:ci:deployer' },
    status: {
      phase: 'Approved',
      decision: {
        outcome: 'Approved',
        decidedBy: 'policy:payments/below-500',
        reason: 'payments below $500',
        decidedAt: '2026-11-26T10:00:01Z',
      },
    },
  };
}

const announce = (uid: string): SlackIntent => ({
  kind: 'announcement',
  key: `${uid}/announce/Approved/#workflow-updates`,
  channel: '#workflow-updates',
  uid,
  outcome: 'Approved',
});

const discard = new Writable({
  write(_chunk, _encoding, done) {
    done();
  },
});

async function outbox(
  existing?: SlackEmulator,
  extra: readonly ApprovalRequest[] = [],
  recordTracking: (request: ApprovalRequest, channel: string, ts: string) => Promise<void> = () =>
    Promise.resolve(),
) {
  const slack = existing ?? (await startSlackEmulator({ socketPingIntervalMs: 0 }));
  if (!existing) emulators.push(slack);
  const requests = new Map([
    ['u-1', approved('u-1', 'inv-1')],
    ['u-2', approved('u-2', 'inv-2')],
    ...extra.map((request): [string, ApprovalRequest] => [request.metadata.uid ?? '', request]),
  ]);
  const box = new SlackOutbox({
    web: new SlackWeb({
      token: slack.workspace.botToken,
      apiUrl: slack.apiUrl,
      metrics: new GreenlightMetrics({ processMetrics: false }),
    }),
    logger: createLogger({ format: 'json', level: 'error', stream: discard }),
    paceMs: 10,
    request: (uid) => requests.get(uid),
    recordTracking,
    onTerminal: () => undefined,
    onDepth: () => undefined,
  });
  const posted = (): string[] => slack.messages('C0WORKFLOW').map((message) => message.text);
  return { slack, box, posted };
}

describe('the Slack outbox', () => {
  it('posts an intent once however often it is submitted, and says what is pending', async () => {
    const { box, posted } = await outbox();
    box.submit([announce('u-1')]);
    box.submit([announce('u-1')]);
    expect(box.pending('u-1')).toBe(true);
    expect(box.pending('u-2')).toBe(false);
    await eventually(() => {
      expect(posted()).toHaveLength(1);
      expect(box.pending('u-1')).toBe(false);
    });
    box.submit([announce('u-1')]);
    expect(box.pending('u-1')).toBe(false);
    box.submit([announce('u-2')]);
    await eventually(() => {
      expect(posted()).toHaveLength(2);
    });
    expect(posted().filter((text) => text.includes('inv-1'))).toHaveLength(1);
    box.stop();
  });

  it('forgets what it did for the requests it is told to forget, and only those', async () => {
    const { box, posted } = await outbox();
    box.submit([announce('u-1'), announce('u-2')]);
    await eventually(() => {
      expect(posted()).toHaveLength(2);
      expect(box.pending('u-2')).toBe(false);
    });
    box.forget(new Set(['u-1']));
    box.submit([announce('u-1'), announce('u-2')]);
    await eventually(() => {
      expect(posted()).toHaveLength(3);
      expect(box.pending('u-1')).toBe(false);
    });
    expect(posted().filter((text) => text.includes('inv-1'))).toHaveLength(2);
    expect(posted().filter((text) => text.includes('inv-2'))).toHaveLength(1);
    box.stop();
  });

  it('after a restart, finds its answers in a thread and does not post them again', async () => {
    const first = await outbox();
    const bot = new WebClient('xoxb-payments-bot', {
      slackApiUrl: first.slack.apiUrl,
      retryConfig: { retries: 0 },
    });
    const { ts = '' } = await bot.chat.postMessage({ channel: 'C0PAYREQ', text: 'May I?' });
    const slackBorn = approved('u-3', 'slack-c0payreq-1');
    const asked: ApprovalRequest = {
      ...slackBorn,
      metadata: {
        ...slackBorn.metadata,
        annotations: { 'greenlight.dev/slack-channel': 'C0PAYREQ', 'greenlight.dev/slack-ts': ts },
      },
      spec: { ...slackBorn.spec, requester: 'slack:B0PAYBOT' },
    };
    const intents = planSlack(asked, () => undefined);
    expect(intents.map((intent) => intent.kind)).toEqual(['reaction', 'intake-reply']);
    const answers = (): number =>
      first.slack.messages('C0PAYREQ').filter((message) => message.threadTs === ts).length;

    const one = await outbox(first.slack, [asked]);
    one.box.submit(intents);
    await eventually(() => {
      expect(answers()).toBe(1);
      expect(one.box.pending('u-3')).toBe(false);
    });
    one.box.stop();
    // A new process knows nothing of what the last one posted; the thread tells it.
    const two = await outbox(first.slack, [asked]);
    two.box.submit(intents);
    await eventually(() => {
      expect(two.box.pending('u-3')).toBe(false);
    });
    expect(answers()).toBe(1);
    expect(first.slack.calls('conversations.replies').length).toBeGreaterThanOrEqual(2);
    expect(first.slack.reactions('C0PAYREQ', ts)).toEqual([
      { name: 'white_check_mark', users: ['U0GREENLIGHT'] },
    ]);
    two.box.stop();
    first.box.stop();
  });

  it('records a tracking message in the request once the API server takes it, after refusing it', async () => {
    const waiting: ApprovalRequest = {
      ...approved('u-4', 'inv-4'),
      status: {
        phase: 'Escalated',
        evaluations: [{ policy: 'payments', result: 'Escalate', message: 'default', policyGeneration: 1 }],
      },
    };
    const recorded: string[] = [];
    let refusals = 1;
    const { slack, box } = await outbox(undefined, [waiting], (_request, channel, ts) => {
      // The status write the API server refuses once (429 while the controller is starved).
      if (refusals-- > 0) return Promise.reject(new Error('HTTP 429'));
      recorded.push(`${channel} ${ts}`);
      return Promise.resolve();
    });
    box.submit([{ kind: 'tracking', key: 'u-4/tracking', channel: '#payments-approvals', uid: 'u-4' }]);
    await eventually(() => {
      expect(recorded).toHaveLength(1);
      expect(box.pending('u-4')).toBe(false);
    });
    const posted = slack.messages('C0PAYMENTS');
    expect(posted).toHaveLength(1);
    expect(recorded).toEqual([`C0PAYMENTS ${posted[0]?.ts ?? ''}`]);
    box.stop();
  });
});
