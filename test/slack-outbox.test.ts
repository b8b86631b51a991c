import { afterAll, describe, expect, it } from 'vitest';
import type { ApprovalRequest } from '../src/api/v1alpha1/approval-request.ts';
import { createLogger } from '../src/observability/logger.ts';
import { GreenlightMetrics } from '../src/observability/metrics.ts';
import { SlackOutbox } from '../src/slack/outbox.ts';
import type { SlackIntent } from '../src/slack/plan.ts';
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

async function outbox() {
  const slack = await startSlackEmulator({ socketPingIntervalMs: 0 });
  emulators.push(slack);
  const requests = new Map([
    ['u-1', approved('u-1', 'inv-1')],
    ['u-2', approved('u-2', 'inv-2')],
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
    recordTracking: () => Promise.resolve(),
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
});
