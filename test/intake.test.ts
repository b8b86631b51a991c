import { CustomObjectsApi } from '@kubernetes/client-node';
import { LogLevel, WebClient } from '@slack/web-api';
import { afterAll, describe, expect, it } from 'vitest';
import type { ApprovalIntakeSpec } from '../src/api/v1alpha1/approval-intake.ts';
import type { ApprovalPolicySpec } from '../src/api/v1alpha1/approval-policy.ts';
import type { ApprovalRequest } from '../src/api/v1alpha1/approval-request.ts';
import { GreenlightApi } from '../src/k8s/greenlight-api.ts';
import { requestName } from '../src/slack/intake.ts';
import { ActionId, buttonValue } from '../src/slack/messages.ts';
import { answersTo } from './support/answers.ts';
import { createTestNamespace, kubeConfigAs } from './support/cluster.ts';
import { startController, waitForCondition, type RunningController } from './support/controller.ts';
import { eventually } from './support/eventually.ts';
import { greenlightAs } from './support/greenlight-objects.ts';
import { APPROVER_RULES, grant } from './support/rbac.ts';
import { httpClick, slackSettings, trackedInSlack } from './support/slack.ts';
import {
  DEFAULT_BOTS,
  startSlackEmulator,
  type PostedMessage,
  type SlackEmulator,
} from './slack-emulator/index.ts';

// Machines ask in Slack and hear back: the real control plane, the controller, and the Slack emulator
// delivering the Events API (signed HTTP, or Socket Mode) to it, with bots posting through the real
// @slack/web-api client.

const admin = new GreenlightApi(kubeConfigAs('admin'));
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const ROGUE = { id: 'B0ROGUE', userId: 'U0ROGUE', appId: 'A0ROGUE', name: 'rogue-bot', token: 'xoxb-rogue' };

const payments: ApprovalPolicySpec = {
  selector: { actions: ['payment'] },
  rules: [
    {
      name: 'below-500',
      when: "params.currency == 'USD' && params.amount < 500",
      decision: 'Approve',
      message: 'payments below $500 are approved automatically',
    },
  ],
  escalation: {
    slack: { channel: '#payments-approvals' },
    approvers: { slackUsers: ['U0ALICE', 'U0BOB'], kubernetesUsers: ['alice', 'bob'] },
  },
};

const paymentsIntake: ApprovalIntakeSpec = {
  slack: { channel: 'C0PAYREQ' },
  senders: { slackBots: ['B0PAYBOT'], slackUsers: ['U0ALICE'] },
  defaults: { timeout: '2h' },
};

interface Env {
  readonly namespace: string;
  readonly slack: SlackEmulator;
  readonly controller: RunningController;
  readonly eventsUrl: string;
  readonly socket: boolean;
}

async function setup(
  prefix: string,
  options: { socket?: boolean; intake?: ApprovalIntakeSpec; policy?: ApprovalPolicySpec } = {},
): Promise<Env> {
  const namespace = await createTestNamespace(prefix);
  await greenlightAs('admin').createPolicy(namespace, 'payments', options.policy ?? payments);
  await greenlightAs('admin').createIntake(namespace, 'payments', options.intake ?? paymentsIntake);
  const slack = await startSlackEmulator({
    socketPingIntervalMs: 0,
    eventRetryDelaysMs: [0, 200, 500],
    bots: [...DEFAULT_BOTS, ROGUE],
    // Several bots post at once here; Greenlight's own pacing is tested in test/slack.test.ts.
    rateLimit: { perChannelPerSecond: 50, burst: 50 },
  });
  const { settings, port } = await slackSettings(slack, { socket: options.socket ?? false });
  const controller = await startController(namespace, { slack: settings });
  cleanups.push(async () => {
    await controller.stop();
    await slack.close();
  });
  const env = {
    namespace,
    slack,
    controller,
    eventsUrl: `http://127.0.0.1:${port}/slack/events`,
    socket: options.socket ?? false,
  };
  await subscribe(env);
  return env;
}

/** Points Slack's events at the controller, as an admin does once in the app's settings. */
async function subscribe(env: Env): Promise<void> {
  if (env.socket) {
    await env.slack.waitFor(() => env.slack.connectedClients() > 0, 10_000);
    await env.slack.subscribeEvents({ via: 'socket' });
    return;
  }
  const verification = await env.slack.subscribeEvents({ via: 'http', requestUrl: env.eventsUrl });
  expect(verification.verified).toBe(true);
}

/** A machine (or a person, with their own token) asks in a channel with Greenlight's metadata. */
async function ask(
  env: Env,
  payload: Record<string, unknown>,
  options: { token?: string; channel?: string; text?: string } = {},
): Promise<string> {
  const client = new WebClient(options.token ?? 'xoxb-payments-bot', {
    slackApiUrl: env.slack.apiUrl,
    retryConfig: { retries: 0 },
    logLevel: LogLevel.ERROR,
  });
  const posted = await client.chat.postMessage({
    channel: options.channel ?? '#payments-requests',
    text: options.text ?? 'Approval requested',
    metadata: {
      event_type: 'greenlight_approval_requested',
      event_payload: payload as Record<string, string>,
    },
  });
  return posted.ts ?? '';
}

const payment = (amount: number, invoice: string): Record<string, unknown> => ({
  action: 'payment',
  resource: `invoice/${invoice}`,
  parameters: { amount, currency: 'USD' },
  reason: `invoice ${invoice}`,
});

/** Greenlight's replies in a thread (what the asking machine reads). */
const replies = (env: Env, ts: string, channel = 'C0PAYREQ'): PostedMessage[] =>
  env.slack.messages(channel).filter((message) => message.threadTs === ts);

const decidedReplies = (env: Env, ts: string): PostedMessage[] =>
  replies(env, ts).filter((message) => message.metadata?.event_type === 'greenlight_approval_decided');

const reactionNames = (env: Env, ts: string, channel = 'C0PAYREQ'): string[] =>
  env.slack.reactions(channel, ts).map((reaction) => reaction.name);

async function intakeRequests(namespace: string): Promise<ApprovalRequest[]> {
  const list = (await kubeConfigAs('admin').makeApiClient(CustomObjectsApi).listNamespacedCustomObject({
    group: 'greenlight.dev',
    version: 'v1alpha1',
    namespace,
    plural: 'approvalrequests',
    labelSelector: 'greenlight.dev/intake',
  })) as { items: ApprovalRequest[] };
  return list.items;
}

async function metric(env: Env, pattern: RegExp): Promise<void> {
  await eventually(async () => {
    expect((await env.controller.metrics.metrics()).body).toMatch(pattern);
  });
}

describe('Slack intake', () => {
  it('answers a bot’s request auto-approved by policy in its thread, with metadata the bot reads back', async () => {
    const env = await setup('intake-auto');
    const ready = await eventually(async () => {
      const intake = await greenlightAs('admin').getIntake(env.namespace, 'payments');
      const condition = intake.status?.conditions?.find((c) => c.type === 'Ready');
      expect(condition?.status).toBe('True');
      return intake;
    });
    expect(ready.status?.channelId).toBe('C0PAYREQ');

    const ts = await ask(env, payment(450, 'INV-42'));
    const name = requestName('C0PAYREQ', ts);
    const approved = await waitForCondition(admin, env.namespace, name, 'Approved');
    expect(approved.spec).toEqual({
      action: 'payment',
      resource: 'invoice/INV-42',
      parameters: { amount: 450, currency: 'USD' },
      reason: 'invoice INV-42',
      requester: 'slack:B0PAYBOT',
      timeout: '2h',
    });
    expect(approved.metadata.labels).toEqual({ 'greenlight.dev/intake': 'payments' });
    expect(approved.metadata.annotations).toMatchObject({
      'greenlight.dev/slack-channel': 'C0PAYREQ',
      'greenlight.dev/slack-ts': ts,
      'greenlight.dev/slack-user': 'U0PAYBOT',
    });

    const [decided] = await env.slack.waitFor(() => {
      const found = decidedReplies(env, ts);
      return found.length > 0 ? found : undefined;
    }, 10_000);
    expect(decided?.metadata?.event_payload).toEqual({
      namespace: env.namespace,
      name,
      phase: 'Approved',
      outcome: 'Approved',
      decidedBy: 'policy:payments/below-500',
      reason: 'payments: payments below $500 are approved automatically',
    });
    expect(decided?.text).toContain('*Approved* by policy payments/below-500');
    await env.slack.waitFor(() => reactionNames(env, ts).includes('white_check_mark'), 10_000);
    expect(reactionNames(env, ts)).toEqual(['white_check_mark']);
    // Decided at once: no "received" reply before the answer.
    expect(replies(env, ts)).toHaveLength(1);
    await metric(env, /greenlight_slack_intake_total\{result="created"\} 1/);
  });

  it('escalates a large one to people, answers in thread at each step, and says who approved (Socket Mode)', async () => {
    const env = await setup('intake-escalate', { socket: true });
    const ts = await ask(env, payment(5000, 'INV-43'));
    const name = requestName('C0PAYREQ', ts);
    const { request, channel, ts: trackingTs } = await trackedInSlack(admin, env.namespace, name);
    expect(channel).toBe('C0PAYMENTS');
    expect(env.slack.message(channel, trackingTs)?.text).toContain('requested by slack:B0PAYBOT');
    const escalated = await env.slack.waitFor(
      () => replies(env, ts).find((reply) => reply.text.includes('*Escalated*')),
      10_000,
    );
    expect(escalated.text).toContain('0 of 1 approvals given for policy payments');
    await env.slack.waitFor(() => reactionNames(env, ts).includes('raising_hand'), 10_000);

    await env.slack.click({
      via: 'socket',
      user: 'U0BOB',
      actionId: ActionId.Approve,
      value: buttonValue(request),
      channel,
      messageTs: trackingTs,
    });
    const approved = await waitForCondition(admin, env.namespace, name, 'Approved');
    expect(approved.status?.decision?.decidedBy).toBe('slack:U0BOB');
    const [decided] = await env.slack.waitFor(() => {
      const found = decidedReplies(env, ts);
      return found.length > 0 ? found : undefined;
    }, 10_000);
    expect(decided?.metadata?.event_payload).toMatchObject({
      name,
      phase: 'Approved',
      outcome: 'Approved',
      decidedBy: 'slack:U0BOB',
    });
    expect(decided?.text).toContain('*Approved* by <@U0BOB>');
    await env.slack.waitFor(() => reactionNames(env, ts).join() === 'white_check_mark', 10_000);
    expect(replies(env, ts).map((reply) => reply.text.split(' ')[1])).toEqual(['*Escalated*', '*Approved*']);
  });

  it('makes one request of one message, however often Slack delivers it', async () => {
    const env = await setup('intake-thrice');
    const ts = await ask(env, payment(120, 'INV-44'));
    const eventId = await env.slack.waitFor(() => env.slack.eventIdOf('C0PAYREQ', ts), 10_000);
    await waitForCondition(admin, env.namespace, requestName('C0PAYREQ', ts), 'Approved');
    expect((await env.slack.redeliverEvent(eventId)).status).toBe(200);
    expect((await env.slack.redeliverEvent(eventId)).status).toBe(200);
    expect(env.slack.eventDeliveries(eventId).map((delivery) => delivery.retryNum)).toEqual([0, 1, 2]);
    await env.slack.waitFor(() => decidedReplies(env, ts).length > 0, 10_000);
    expect(await intakeRequests(env.namespace)).toHaveLength(1);
    await metric(env, /greenlight_slack_intake_total\{result="duplicate"\} 2/);
    expect(decidedReplies(env, ts)).toHaveLength(1);
  });

  it('after a restart between receiving a message and answering it: one request, one answer', async () => {
    const env = await setup('intake-restart');
    const ts = await ask(env, payment(300, 'INV-45'));
    // Greenlight cannot post from now on: the request is made, its answer is stuck in the outbox.
    env.slack.failNext('chat.postMessage', { error: 'internal_error' }, 100);
    const name = requestName('C0PAYREQ', ts);
    await waitForCondition(admin, env.namespace, name, 'Approved');
    await env.slack.waitFor(() => env.slack.calls('chat.postMessage').some((call) => !call.ok), 10_000);
    await env.controller.stop();
    expect(replies(env, ts)).toEqual([]);

    env.slack.resetFaults();
    const { settings, port } = await slackSettings(env.slack);
    const restarted = await startController(env.namespace, { slack: settings });
    cleanups.push(() => restarted.stop());
    const again: Env = { ...env, eventsUrl: `http://127.0.0.1:${port}/slack/events`, controller: restarted };
    await subscribe(again);
    // Slack, not having heard back in time, sends the message again: to the new process. Its intakes
    // sync in the background, and until they have it answers 500 ("send it again"), as Slack then does.
    const eventId = env.slack.eventIdOf('C0PAYREQ', ts) ?? '';
    await eventually(async () => {
      expect((await env.slack.redeliverEvent(eventId)).status).toBe(200);
    });
    // Not ready yet is the only reason to have it sent again here: handling it never failed.
    expect(restarted.logs.filter((line) => line.includes('Could not handle a message'))).toEqual([]);
    await env.slack.waitFor(() => decidedReplies(again, ts).length > 0, 15_000);
    expect(await intakeRequests(env.namespace)).toHaveLength(1);
    expect(decidedReplies(again, ts)).toHaveLength(1);
    expect(replies(again, ts)).toHaveLength(1);
    await metric(again, /greenlight_slack_intake_total\{result="duplicate"\} 1/);
  });

  it('refuses an unknown bot, a person not listed, a bad payload and a channel without intake; creates nothing', async () => {
    const env = await setup('intake-refuse');
    const refusal = async (ts: string, channel = 'C0PAYREQ'): Promise<PostedMessage> => {
      const found = await env.slack.waitFor(
        () =>
          replies(env, ts, channel).find(
            (reply) => reply.metadata?.event_type === 'greenlight_approval_refused',
          ),
        10_000,
      );
      await env.slack.waitFor(() => reactionNames(env, ts, channel).includes('no_entry_sign'), 10_000);
      return found;
    };

    const rogue = await ask(env, payment(10, 'INV-1'), { token: 'xoxb-rogue' });
    expect((await refusal(rogue)).text).toContain(
      'This request was refused: bot B0ROGUE (app A0ROGUE) may not ask here: ApprovalIntake',
    );
    const bob = await ask(env, payment(10, 'INV-2'), { token: 'xoxp-bob' });
    expect((await refusal(bob)).text).toContain('&lt;@U0BOB&gt; may not ask here');
    const bad = await ask(env, { action: 'payment', parameters: 'amount=5' });
    const invalid = await refusal(bad);
    expect(invalid.text).toContain('This request is not valid: event_payload.parameters: must be object');
    expect(invalid.metadata?.event_payload).toMatchObject({ result: 'invalid', ts: bad });
    const elsewhere = await ask(env, payment(10, 'INV-3'), { channel: '#deployments' });
    expect((await refusal(elsewhere, 'C0DEPLOYS')).text).toContain(
      'no ApprovalIntake listens to this channel',
    );

    expect(await intakeRequests(env.namespace)).toEqual([]);
    await metric(env, /greenlight_slack_intake_total\{result="refused"\} 3/);
    await metric(env, /greenlight_slack_intake_total\{result="invalid"\} 1/);
  });

  it('refuses forged and stale events, and never acts on edits or on its own messages', async () => {
    const env = await setup('intake-forged');
    const ts = await ask(env, payment(100, 'INV-46'));
    const eventId = await env.slack.waitFor(() => env.slack.eventIdOf('C0PAYREQ', ts), 10_000);
    await env.slack.waitFor(() => decidedReplies(env, ts).length > 0, 10_000);
    const payload = env.slack.eventPayload(eventId) ?? {};
    const forged = {
      ...payload,
      event: { ...(payload['event'] as object), ts: '1700000000.999999' },
    };
    expect((await env.slack.sendEvent(forged, { signingSecret: 'not-the-secret' })).status).toBe(401);
    expect(
      (await env.slack.sendEvent(forged, { timestampSeconds: Math.floor(Date.now() / 1000) - 600 })).status,
    ).toBe(401);

    // The payments bot edits its message (Slack: message_changed); Greenlight's own replies and
    // reactions come back as events too. None of it makes a request or a reply.
    const bot = new WebClient('xoxb-payments-bot', {
      slackApiUrl: env.slack.apiUrl,
      retryConfig: { retries: 0 },
    });
    await bot.chat.update({
      channel: 'C0PAYREQ',
      ts,
      text: 'edited',
      metadata: { event_type: 'greenlight_approval_requested', event_payload: { action: 'refund' } },
    });
    const delivered = env.slack.eventDeliveries().length;
    await env.slack.waitFor(() => env.slack.eventDeliveries().length > delivered, 10_000);
    const greenlightsOwn = env.slack
      .eventDeliveries()
      .map(
        (delivery) => env.slack.eventPayload(delivery.eventId)?.['event'] as { bot_id?: string } | undefined,
      )
      .filter((event) => event?.bot_id === 'B0GREENLIGHT');
    expect(greenlightsOwn.length).toBeGreaterThan(0);
    expect(await intakeRequests(env.namespace)).toHaveLength(1);
    expect(replies(env, ts)).toHaveLength(1);
    const text = (await env.controller.metrics.metrics()).body;
    expect(text).toMatch(/greenlight_slack_interactions_total\{result="bad_signature"\} 1/);
    expect(text).toMatch(/greenlight_slack_interactions_total\{result="stale"\} 1/);
    expect(text).toMatch(/greenlight_slack_intake_total\{result="created"\} 1/);
    expect(text).toMatch(/greenlight_slack_intake_total\{result="refused"\} 0/);
  });

  it('says when it cannot listen: a channel it is not in, one that does not exist, one another intake has', async () => {
    const env = await setup('intake-ready');
    const intakes = greenlightAs('admin');
    await intakes.createIntake(env.namespace, 'private', {
      ...paymentsIntake,
      slack: { channel: '#private-ops' },
    });
    await intakes.createIntake(env.namespace, 'nowhere', {
      ...paymentsIntake,
      slack: { channel: '#no-such-channel' },
    });
    await intakes.createIntake(env.namespace, 'second', {
      ...paymentsIntake,
      slack: { channel: '#payments-requests' },
    });
    const reasonOf = async (name: string): Promise<string | undefined> =>
      (await intakes.getIntake(env.namespace, name)).status?.conditions?.find((c) => c.type === 'Ready')
        ?.reason;
    await eventually(async () => {
      expect(await reasonOf('payments')).toBe('Listening');
      expect(await reasonOf('private')).toBe('NotInChannel');
      expect(await reasonOf('nowhere')).toBe('ChannelNotFound');
      expect(await reasonOf('second')).toBe('ChannelTaken');
    });
    const taken = await intakes.getIntake(env.namespace, 'second');
    expect(taken.status?.conditions?.[0]?.message).toContain(
      `ApprovalIntake ${env.namespace}/payments, older`,
    );
  });

  it('never lets whoever asked approve it: not the Slack user who asked, nor the Kubernetes user linked to them', async () => {
    const env = await setup('intake-self');
    await grant(env.namespace, { user: 'alice' }, APPROVER_RULES);
    // alice (U0ALICE, linked to the Kubernetes user alice) asks in her own name, with her user token.
    const ts = await ask(env, payment(7000, 'INV-47'), { token: 'xoxp-alice' });
    const name = requestName('C0PAYREQ', ts);
    const { request, channel, ts: trackingTs } = await trackedInSlack(admin, env.namespace, name);
    expect(request.spec.requester).toBe('slack:U0ALICE');
    const click = await httpClick(env.slack, {
      requestUrl: env.eventsUrl,
      user: 'U0ALICE',
      actionId: ActionId.Approve,
      value: buttonValue(request),
      channel,
      messageTs: trackingTs,
    });
    expect(click.status).toBe(200);
    const ephemeral = await env.slack.waitFor(
      () => env.slack.ephemerals().find((e) => e.user === 'U0ALICE'),
      10_000,
    );
    expect(ephemeral.text).toBe('You asked for this (as alice); someone else has to approve it.');

    // alice answers with greenlight approve instead: recorded, and ignored as the requester's.
    const asAlice = new GreenlightApi(kubeConfigAs('alice'));
    await eventually(() => asAlice.addApprovals(request, answersTo(request, 'alice', 'Approve')));
    const ignored = await eventually(async () => {
      const current = await admin.getRequest(env.namespace, name);
      const condition = current.status?.conditions?.find((c) => c.type === 'Escalated');
      expect(condition?.message).toContain('alice (the requester cannot approve their own request)');
      return current;
    });
    expect(ignored.status?.phase).toBe('Escalated');

    await httpClick(env.slack, {
      requestUrl: env.eventsUrl,
      user: 'U0BOB',
      actionId: ActionId.Approve,
      value: buttonValue(ignored),
      channel,
      messageTs: trackingTs,
    });
    const approved = await waitForCondition(admin, env.namespace, name, 'Approved');
    expect(approved.status?.decision?.decidedBy).toBe('slack:U0BOB');
  });
});
