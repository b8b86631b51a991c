import { afterAll, describe, expect, it } from 'vitest';
import type { ApprovalPolicySpec } from '../src/api/v1alpha1/approval-policy.ts';
import { GreenlightApi } from '../src/k8s/greenlight-api.ts';
import { ActionId, buttonValue } from '../src/slack/messages.ts';
import { greenlightAs, linkSlackUser } from './support/greenlight-objects.ts';
import { createTestNamespace, kubeConfigAs } from './support/cluster.ts';
import { startController, waitForCondition, type RunningController } from './support/controller.ts';
import { httpClick, slackSettings, trackedInSlack } from './support/slack.ts';
import { eventually } from './support/eventually.ts';
import { grant, REQUESTER_RULES } from './support/rbac.ts';
import {
  DEFAULT_USERS,
  deliverInteraction,
  startSlackEmulator,
  type SlackEmulator,
} from './slack-emulator/index.ts';

// Slack end to end: the real control plane, the controller, and the Slack emulator driving the real
// @slack/web-api and @slack/socket-mode clients.

const admin = new GreenlightApi(kubeConfigAs('admin'));
const ci = new GreenlightApi(kubeConfigAs('ci'));
const ciUser = 'system:serviceaccount:ci:deployer';
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const payments = (
  overrides: Partial<NonNullable<ApprovalPolicySpec['escalation']>> = {},
): ApprovalPolicySpec => ({
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
    approvers: { slackUsers: ['U0ALICE'], slackUserGroups: ['S0APPROVERS'] },
    ...overrides,
  },
  notify: { slack: { channel: '#workflow-updates' } },
});

interface Setup {
  readonly namespace: string;
  readonly slack: SlackEmulator;
  readonly controller: RunningController;
  readonly eventsUrl: string;
}

async function setup(
  prefix: string,
  options: { socket?: boolean; spec?: ApprovalPolicySpec; paceMs?: number; robot?: boolean } = {},
): Promise<Setup> {
  const namespace = await createTestNamespace(prefix);
  await grant(namespace, { user: ciUser }, REQUESTER_RULES);
  await greenlightAs('admin').createPolicy(namespace, 'payments', options.spec ?? payments());
  const robot = { id: 'U0ROBOT', name: 'ci-robot', email: ciUser };
  const slack = await startSlackEmulator({
    socketPingIntervalMs: 0,
    ...(options.robot ? { users: [...DEFAULT_USERS, robot] } : {}),
  });
  const { settings, port } = await slackSettings(slack, options);
  const controller = await startController(namespace, { slack: settings });
  cleanups.push(async () => {
    await controller.stop();
    await slack.close();
  });
  return { namespace, slack, controller, eventsUrl: `http://127.0.0.1:${port}/slack/events` };
}

/** A second controller process for the namespace, after the first one stopped (a restart). */
async function restart(env: Setup): Promise<RunningController> {
  const restarted = await startController(env.namespace, {
    slack: (await slackSettings(env.slack)).settings,
  });
  cleanups.push(() => restarted.stop());
  return restarted;
}

async function escalate(env: Setup, name: string, amount = 5000) {
  await ci.createRequest(env.namespace, name, {
    action: 'payment',
    resource: `invoice/${name}`,
    requester: ciUser,
    parameters: { amount, currency: 'USD' },
  });
  return trackedInSlack(admin, env.namespace, name);
}

/** The Greenlight keys a message's metadata carries (one for a message, several for a digest). */
function keysOf(message: {
  metadata?: { event_payload: Readonly<Record<string, unknown>> } | undefined;
}): string {
  const keys = message.metadata?.event_payload['keys'];
  return typeof keys === 'string' ? keys : '';
}

const actionIds = (blocks: unknown): string[] =>
  JSON.stringify(blocks ?? [])
    .match(/greenlight_(approve|deny)/g)
    ?.filter((id, index, all) => all.indexOf(id) === index) ?? [];

describe('Slack', () => {
  it('announces an auto-approval in the notify channel, as the seed article shows it', async () => {
    const env = await setup('slack-announce');
    await ci.createRequest(env.namespace, 'inv-42', {
      action: 'payment',
      resource: 'invoice/INV-42',
      requester: ciUser,
      parameters: { amount: 450, currency: 'USD' },
    });
    const message = await env.slack.waitFor(() => env.slack.messages('C0WORKFLOW')[0], 10_000);
    expect(message.text).toBe('Approval requested for payment `invoice/INV-42`. Status: AUTO-APPROVED.');
    expect(message.metadata?.event_type).toBe('greenlight');
    expect(env.slack.messages('C0PAYMENTS')).toEqual([]);
  });

  it('still posts when the app may not read channels (a missing scope), and says so in the logs', async () => {
    const env = await setup('slack-scope');
    env.slack.failNext('conversations.list', { error: 'missing_scope' }, 10);
    await ci.createRequest(env.namespace, 'inv-50', {
      action: 'payment',
      requester: ciUser,
      parameters: { amount: 5, currency: 'USD' },
    });
    const message = await env.slack.waitFor(() => env.slack.messages('C0WORKFLOW')[0], 10_000);
    expect(message.text).toContain('Status: AUTO-APPROVED.');
    expect(env.controller.logs.some((line) => line.includes('Cannot read a Slack channel'))).toBe(true);
  });

  it('escalates with buttons, takes an approval clicked over HTTP, and updates the message without buttons', async () => {
    const env = await setup('slack-http');
    const { request, channel, ts } = await escalate(env, 'inv-43');
    expect(channel).toBe('C0PAYMENTS');
    const posted = env.slack.message(channel, ts);
    expect(posted?.text).toContain('Approval needed: payment invoice/inv-43');
    expect(actionIds(posted?.blocks)).toEqual([ActionId.Approve, ActionId.Deny]);

    const click = await httpClick(env.slack, {
      requestUrl: env.eventsUrl,
      user: 'U0ALICE',
      actionId: ActionId.Approve,
      value: buttonValue(request),
      channel,
      messageTs: ts,
    });
    expect(click.status).toBe(200);
    expect(click.ms).toBeLessThan(3000);
    const approved = await waitForCondition(admin, env.namespace, 'inv-43', 'Approved');
    expect(approved.status?.decision?.decidedBy).toBe('slack:U0ALICE');
    const updated = await env.slack.waitFor(() => {
      const current = env.slack.message(channel, ts);
      return current && actionIds(current.blocks).length === 0 ? current : undefined;
    }, 10_000);
    expect(JSON.stringify(updated.blocks)).toContain('*Approved* by <@U0ALICE>');
    const replies = await env.slack.waitFor(
      () => env.slack.messages(channel).find((m) => m.threadTs === ts),
      10_000,
    );
    expect(replies.text).toContain('<@U0ALICE> :white_check_mark: approved');
    // The earlier "Escalated" announcement now says how it ended.
    const announced = await env.slack.waitFor(
      () =>
        env.slack
          .messages('C0WORKFLOW')
          .find((m) => m.history.length > 1 && m.text.includes('Status: APPROVED.')),
      10_000,
    );
    expect(announced.history[0]?.text).toContain('Status: ESCALATED.');
    expect((await env.controller.metrics.metrics()).body).toMatch(
      /greenlight_slack_interactions_total\{result="accepted"\} 1/,
    );
  });

  it('takes an approval over Socket Mode', async () => {
    const env = await setup('slack-socket', { socket: true });
    await env.slack.waitFor(() => env.slack.connectedClients() > 0, 10_000);
    const { request, channel, ts } = await escalate(env, 'inv-44');
    const ack = await env.slack.click({
      via: 'socket',
      user: 'U0BOB',
      actionId: ActionId.Approve,
      value: buttonValue(request),
      channel,
      messageTs: ts,
    });
    expect(ack).toBeDefined();
    const approved = await waitForCondition(admin, env.namespace, 'inv-44', 'Approved');
    expect(approved.status?.decision?.decidedBy).toBe('slack:U0BOB');
  });

  it('needs two approvals when the policy says so, and shows the progress in the thread', async () => {
    const env = await setup('slack-two', { spec: payments({ requiredApprovals: 2 }) });
    const { request, channel, ts } = await escalate(env, 'inv-45');
    const click = (user: string) =>
      httpClick(env.slack, {
        requestUrl: env.eventsUrl,
        user,
        actionId: ActionId.Approve,
        value: buttonValue(request),
        channel,
        messageTs: ts,
      });
    await click('U0ALICE');
    await env.slack.waitFor(
      () => env.slack.messages(channel).find((m) => m.threadTs === ts && m.text.includes('1 of 2 approvals')),
      10_000,
    );
    expect((await admin.getRequest(env.namespace, 'inv-45')).status?.phase).toBe('Escalated');
    await click('U0BOB');
    const approved = await waitForCondition(admin, env.namespace, 'inv-45', 'Approved');
    expect(approved.status?.decision?.reason).toBe('approved by U0ALICE (alice), U0BOB (bob)');
  });

  it('refuses an outsider, a forged signature and a replay, and changes nothing', async () => {
    const env = await setup('slack-refuse');
    const { request, channel, ts } = await escalate(env, 'inv-46');
    const base = {
      requestUrl: env.eventsUrl,
      actionId: ActionId.Approve,
      value: buttonValue(request),
      channel,
      messageTs: ts,
    };

    const outsider = await httpClick(env.slack, { user: 'U0CAROL', ...base });
    expect(outsider.status).toBe(200);
    const ephemeral = await env.slack.waitFor(
      () => env.slack.ephemerals().find((e) => e.user === 'U0CAROL'),
      10_000,
    );
    expect(ephemeral.text).toContain('You are not an approver of payments');

    const forged = await httpClick(env.slack, {
      user: 'U0ALICE',
      signingSecret: 'not-the-secret',
      ...base,
    });
    expect(forged.status).toBe(401);
    const stale = await httpClick(env.slack, {
      user: 'U0ALICE',
      timestamp: Math.floor(Date.now() / 1000) - 600,
      ...base,
    });
    expect(stale.status).toBe(401);

    const once = await httpClick(env.slack, { user: 'U0DAVE', ...base });
    expect(once.status).toBe(200);
    const replay = await deliverInteraction(env.eventsUrl, once.request);
    expect(replay.status).toBe(401);

    const text = (await env.controller.metrics.metrics()).body;
    expect(text).toMatch(/greenlight_slack_interactions_total\{result="unauthorized"\} [12]/);
    expect(text).toMatch(/greenlight_slack_interactions_total\{result="bad_signature"\} 1/);
    expect(text).toMatch(/greenlight_slack_interactions_total\{result="stale"\} 2/);
    const current = await admin.getRequest(env.namespace, 'inv-46');
    expect(current.status?.phase).toBe('Escalated');
    expect((current.status?.approvals ?? []).map((a) => a.approver)).toEqual([]);
  });

  it('refuses a self-approval: the Slack user linked to the requester', async () => {
    // The CI pipeline's service account has a Slack user, linked to it and listed as an approver:
    // still, it cannot approve what it asked for.
    await linkSlackUser('U0ROBOT', ciUser);
    const env = await setup('slack-self', {
      spec: payments({ approvers: { slackUsers: ['U0ROBOT'] } }),
      robot: true,
    });
    const { request, channel, ts } = await escalate(env, 'inv-47');
    const click = await httpClick(env.slack, {
      requestUrl: env.eventsUrl,
      user: 'U0ROBOT',
      actionId: ActionId.Approve,
      value: buttonValue(request),
      channel,
      messageTs: ts,
    });
    expect(click.status).toBe(200);
    const ephemeral = await env.slack.waitFor(
      () => env.slack.ephemerals().find((e) => e.user === 'U0ROBOT'),
      10_000,
    );
    expect(ephemeral.text).toBe(`You asked for this (as ${ciUser}); someone else has to approve it.`);
    expect((await env.controller.metrics.metrics()).body).toMatch(
      /greenlight_slack_interactions_total\{result="self_approval"\} 1/,
    );
    expect((await admin.getRequest(env.namespace, 'inv-47')).status?.phase).toBe('Escalated');
  });

  it('keeps deciding while Slack is down, and delivers every message once after it recovers', async () => {
    const env = await setup('slack-outage');
    env.slack.setOutage(true);
    await Promise.all(
      [100, 200, 300].map((amount) =>
        ci.createRequest(env.namespace, `small-${amount}`, {
          action: 'payment',
          requester: ciUser,
          parameters: { amount, currency: 'USD' },
        }),
      ),
    );
    for (const amount of [100, 200, 300])
      await waitForCondition(admin, env.namespace, `small-${amount}`, 'Approved');
    // Greenlight is trying (and failing): nothing has reached the channel.
    await env.slack.waitFor(() => env.slack.calls().length > 0, 10_000);
    expect(env.slack.messages('C0WORKFLOW')).toEqual([]);
    env.slack.setOutage(false);
    await env.slack.waitFor(() => {
      const keys = env.slack.messages('C0WORKFLOW').flatMap((m) => keysOf(m).split(' '));
      return keys.filter(Boolean).length >= 3 ? keys : undefined;
    }, 30_000);
    const keys = env.slack.messages('C0WORKFLOW').flatMap((m) => keysOf(m).split(' '));
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toHaveLength(3);
  });

  it('does not post twice when a restart happens between posting and recording', async () => {
    const env = await setup('slack-restart');
    const { request, channel, ts } = await escalate(env, 'inv-48');
    // The crash window: the message exists in Slack, but status.slack does not say so.
    await env.controller.stop();
    const status = { ...request.status };
    delete status.slack;
    await admin.replaceRequestStatus(await admin.getRequest(env.namespace, 'inv-48'), status);
    await restart(env);
    const recovered = await eventually(
      async () => {
        const current = await admin.getRequest(env.namespace, 'inv-48');
        if (!current.status?.slack) throw new Error('status.slack not restored yet');
        return current;
      },
      { timeoutMs: 15_000 },
    );
    expect(recovered.status?.slack).toEqual({ channel, ts });
    expect(env.slack.messages(channel).filter((m) => !m.threadTs)).toHaveLength(1);
  });

  it('announces, after a restart, what the previous process decided but could not post; once', async () => {
    const env = await setup('slack-takeover');
    env.slack.setOutage(true);
    for (const amount of [110, 120])
      await ci.createRequest(env.namespace, `small-${amount}`, {
        action: 'payment',
        requester: ciUser,
        parameters: { amount, currency: 'USD' },
      });
    for (const amount of [110, 120])
      await waitForCondition(admin, env.namespace, `small-${amount}`, 'Approved');
    // The decisions are made and final; their announcements die with this process.
    await env.slack.waitFor(() => env.slack.calls().length > 0, 10_000);
    await env.controller.stop();
    expect(env.slack.messages('C0WORKFLOW')).toEqual([]);
    env.slack.setOutage(false);
    // The new process watches undecided requests only: these two reach it by reading the last hour's decisions.
    await restart(env);
    const keysPosted = (): string[] =>
      env.slack
        .messages('C0WORKFLOW')
        .flatMap((m) => keysOf(m).split(' '))
        .filter(Boolean);
    await env.slack.waitFor(() => (keysPosted().length >= 2 ? true : undefined), 15_000);
    const uids = await Promise.all(
      [110, 120].map(
        async (amount) => (await admin.getRequest(env.namespace, `small-${amount}`)).metadata.uid,
      ),
    );
    expect(keysPosted().sort()).toEqual(
      uids.map((uid) => `${uid ?? ''}/announce/Approved/#workflow-updates`).sort(),
    );
  });

  it('paces 200 announcements to one channel: never rate-limited, each request announced once', async () => {
    const env = await setup('slack-burst', { paceMs: 1_100 });
    await Promise.all(
      Array.from({ length: 200 }, (_, n) =>
        ci.createRequest(env.namespace, `burst-${n}`, {
          action: 'payment',
          requester: ciUser,
          parameters: { amount: n, currency: 'USD' },
        }),
      ),
    );
    const keys = await env.slack.waitFor(() => {
      const all = env.slack.messages('C0WORKFLOW').flatMap((m) => keysOf(m).split(' ').filter(Boolean));
      return all.length >= 200 ? all : undefined;
    }, 60_000);
    expect(new Set(keys).size).toBe(200);
    expect(keys).toHaveLength(200);
    expect(env.slack.rateLimited('C0WORKFLOW')).toBe(0);
    expect(env.slack.messages('C0WORKFLOW').length).toBeLessThan(40);
  }, 90_000);
});
