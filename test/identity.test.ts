import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import type { ApprovalPolicySpec } from '../src/api/v1alpha1/approval-policy.ts';
import type { ApprovalRequest } from '../src/api/v1alpha1/approval-request.ts';
import { GreenlightApi } from '../src/k8s/greenlight-api.ts';
import { HUMANS } from '../src/local-cluster/identities.ts';
import { ActionId, buttonValue } from '../src/slack/messages.ts';
import { DEFAULT_IDENTITY_OPTIONS, type SlackIdentityOptions } from '../src/slack/identity.ts';
import { answersTo } from './support/answers.ts';
import { refusal } from './support/api-error.ts';
import { greenlight } from './support/cli.ts';
import { cluster, createTestNamespace, kubeConfigAs, kubeconfigImpersonating } from './support/cluster.ts';
import { startController, waitForCondition } from './support/controller.ts';
import { eventually } from './support/eventually.ts';
import { greenlightAs } from './support/greenlight-objects.ts';
import { APPROVER_RULES, grant, REQUESTER_RULES } from './support/rbac.ts';
import { httpClick, slackSettings, trackedInSlack } from './support/slack.ts';
import {
  DEFAULT_USERS,
  startSlackEmulator,
  type SlackEmulator,
  type SlackUser,
} from './slack-emulator/index.ts';

// One person is one approver across Slack and Kubernetes (docs/security.md). Each attack the security
// review reproduced against the real API server, the controller and Slack (the emulator, driving the
// real Slack SDKs) is refused or not counted here. alice, bob and carol's Slack accounts (U0ALICE,
// U0BOB, U0CAROL) are linked to their Kubernetes users by the global setup, as a platform team would.

const admin = new GreenlightApi(kubeConfigAs('admin'));
const ci = new GreenlightApi(kubeConfigAs('ci'));
const ciUser = cluster().usernames.ci;
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** The shape docs/slack.md shows: approvers from a Kubernetes group and a Slack user group. */
const wires = (
  escalation: Partial<NonNullable<ApprovalPolicySpec['escalation']>> = {},
): ApprovalPolicySpec => ({
  selector: { actions: ['wire'] },
  escalation: {
    slack: { channel: '#payments-approvals' },
    approvers: { kubernetesGroups: ['approvers'], slackUserGroups: ['S0APPROVERS'] },
    requiredApprovals: 2,
    ...escalation,
  },
});

interface Env {
  readonly namespace: string;
  readonly slack: SlackEmulator;
  readonly eventsUrl: string;
}

async function setup(
  prefix: string,
  options: { spec?: ApprovalPolicySpec; users?: readonly SlackUser[]; identity?: SlackIdentityOptions } = {},
): Promise<Env> {
  const namespace = await createTestNamespace(prefix);
  await grant(namespace, { user: ciUser }, REQUESTER_RULES);
  await grant(namespace, { group: 'approvers' }, APPROVER_RULES);
  await greenlightAs('admin').createPolicy(namespace, 'wires', options.spec ?? wires());
  const slack = await startSlackEmulator({
    socketPingIntervalMs: 0,
    users: [...DEFAULT_USERS, ...(options.users ?? [])],
  });
  const { settings, port } = await slackSettings(slack, {
    identity: options.identity ?? DEFAULT_IDENTITY_OPTIONS,
  });
  const controller = await startController(namespace, { slack: settings });
  cleanups.push(async () => {
    await controller.stop();
    await slack.close();
  });
  return { namespace, slack, eventsUrl: `http://127.0.0.1:${port}/slack/events` };
}

async function wire(env: Env, name: string, asker: GreenlightApi = ci, requester = ciUser) {
  await asker.createRequest(env.namespace, name, { action: 'wire', requester, parameters: { amount: 9000 } });
  return trackedInSlack(admin, env.namespace, name);
}

/** A click on Approve as `user`, and the private reply Slack showed them (undefined when accepted). */
async function approveInSlack(
  env: Env,
  tracked: { request: ApprovalRequest; channel: string; ts: string },
  user: string,
): Promise<string | undefined> {
  const before = env.slack.ephemerals().filter((e) => e.user === user).length;
  const click = await httpClick(env.slack, {
    requestUrl: env.eventsUrl,
    user,
    actionId: ActionId.Approve,
    value: buttonValue(tracked.request),
    channel: tracked.channel,
    messageTs: tracked.ts,
  });
  expect(click.status).toBe(200);
  const answered = await eventually(async () => {
    const replies = env.slack.ephemerals().filter((e) => e.user === user);
    if (replies.length > before) return { reply: replies.at(-1)?.text };
    const request = await admin.getRequest(env.namespace, tracked.request.metadata.name ?? '');
    if ((request.status?.approvals ?? []).some((a) => a.approver === user)) return { reply: undefined };
    throw new Error(`the click of ${user} is not handled yet`);
  });
  return answered.reply;
}

const escalatedMessage = (request: ApprovalRequest): string =>
  request.status?.conditions?.find((c) => c.type === 'Escalated')?.message ?? '';

describe('one person is one approver, however they answer', () => {
  it('does not count alice twice: greenlight approve, then a signed Slack click as U0ALICE', async () => {
    const env = await setup('identity-twice');
    const tracked = await wire(env, 'wire-1');
    const cli = await greenlight('alice', ['approve', 'wire-1', '-n', env.namespace]);
    expect(cli.code).toBe(0);

    const reply = await approveInSlack(env, tracked, 'U0ALICE');
    expect(reply).toBe('You already answered as alice; an answer is final and counts once.');
    const waiting = await eventually(async () => {
      const request = await admin.getRequest(env.namespace, 'wire-1');
      expect(escalatedMessage(request)).toContain('1 of 2 approvals given for policy wires');
      return request;
    });
    expect(waiting.status?.approvals?.map((a) => `${a.via}:${a.approver}`)).toEqual(['kubernetes:alice']);

    expect(await approveInSlack(env, tracked, 'U0BOB')).toBeUndefined();
    const approved = await waitForCondition(admin, env.namespace, 'wire-1', 'Approved');
    expect(approved.status?.decision).toMatchObject({
      decidedBy: 'slack:U0BOB',
      reason: 'approved by alice, U0BOB (bob)',
    });
  });

  it('relates an OIDC username in another case to the same person’s Slack email, in either order', async () => {
    // The cluster authenticates people by OIDC email with the prefix oidc: (and this authenticator keeps
    // the email's case); Greenlight is told so, and relates Slack accounts by confirmed email.
    const username = 'oidc:Alice@Example.com';
    const oidcAlice = { id: 'U0OIDCALICE', name: 'alice.oidc', email: 'ALICE@example.com' };
    const env = await setup('identity-oidc', {
      spec: wires({ approvers: { kubernetesUsers: [username], slackUsers: ['U0OIDCALICE', 'U0BOB'] } }),
      users: [oidcAlice],
      identity: { ...DEFAULT_IDENTITY_OPTIONS, usernameClaim: 'email', usernamePrefix: 'oidc:' },
    });
    await grant(env.namespace, { user: username }, APPROVER_RULES);
    const tracked = await wire(env, 'wire-2');

    expect(await approveInSlack(env, tracked, 'U0OIDCALICE')).toBeUndefined();
    const answered = await eventually(async () => {
      const request = await admin.getRequest(env.namespace, 'wire-2');
      expect(request.status?.approvals).toHaveLength(1);
      return request;
    });
    expect(answered.status?.approvals?.[0]).toMatchObject({
      approver: 'U0OIDCALICE',
      via: 'slack',
      kubernetesUser: 'oidc:alice@example.com',
    });

    const kubeconfig = await kubeconfigImpersonating(username);
    const cli = await greenlight('admin', ['approve', 'wire-2', '-n', env.namespace], {
      KUBECONFIG: kubeconfig,
    });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('you already answered');
    // Around the CLI, the API server itself refuses the second answer of the same person.
    const asAlice = (() => {
      const config = new KubeConfig();
      config.loadFromFile(kubeconfig);
      return new GreenlightApi(config);
    })();
    // The patch is guarded by the resourceVersion it read: the controller may write status meanwhile
    // (a refused guard is a 422 too), so read again until the API server judges the answer itself.
    const direct = await eventually(async () => {
      const latest = await admin.getRequest(env.namespace, 'wire-2');
      const refused = await refusal(asAlice.addApprovals(latest, answersTo(latest, username, 'Approve')));
      expect(refused.message).toContain('a person answers each policy once');
      return refused;
    });
    expect(direct.code).toBe(422);
    expect((await admin.getRequest(env.namespace, 'wire-2')).status?.phase).toBe('Escalated');
  });

  it('fails closed: a Slack user nobody linked is told why, and nothing is recorded', async () => {
    const erin = { id: 'U0ERIN', name: 'erin', email: 'erin@example.com' };
    const env = await setup('identity-unlinked', {
      spec: wires({ approvers: { slackUsers: ['U0ERIN', 'U0ALICE'] }, requiredApprovals: 1 }),
      users: [erin],
    });
    const tracked = await wire(env, 'wire-3');
    const reply = await approveInSlack(env, tracked, 'U0ERIN');
    expect(reply).toContain(
      'Your answer was not recorded: your Slack account is not linked to a Kubernetes user',
    );
    const request = await admin.getRequest(env.namespace, 'wire-3');
    expect(request.status?.approvals ?? []).toEqual([]);
    expect(request.status?.phase).toBe('Escalated');
  });

  it('lets only trusted members of the workspace answer, and tells the others why', async () => {
    const strangers: readonly (SlackUser & { why: string })[] = [
      { id: 'U0GUEST', name: 'guest', email: 'guest@example.com', guest: true, why: 'guest accounts' },
      {
        id: 'U0PARTNER',
        name: 'partner',
        email: 'partner@partner.example',
        teamId: 'T0PARTNER',
        why: 'another Slack workspace (Slack Connect)',
      },
      { id: 'U0GONE', name: 'gone', email: 'gone@example.com', deleted: true, why: 'deactivated' },
      { id: 'U0SCRIPT', name: 'script', email: 'script@example.com', bot: true, why: 'bots and apps' },
      {
        id: 'U0UNCONFIRMED',
        name: 'unconfirmed',
        email: 'unconfirmed@example.com',
        emailConfirmed: false,
        why: 'email is not confirmed',
      },
    ];
    const env = await setup('identity-strangers', {
      spec: wires({ approvers: { slackUsers: strangers.map((s) => s.id) }, requiredApprovals: 1 }),
      users: strangers,
      identity: { ...DEFAULT_IDENTITY_OPTIONS, usernameClaim: 'email' },
    });
    const tracked = await wire(env, 'wire-4');
    for (const stranger of strangers) {
      expect(await approveInSlack(env, tracked, stranger.id)).toContain(stranger.why);
    }
    const request = await admin.getRequest(env.namespace, 'wire-4');
    expect(request.status?.approvals ?? []).toEqual([]);
    expect(request.status?.phase).toBe('Escalated');
  });
});

describe('a requester never approves their own request', () => {
  it('refuses alice’s Slack click on what she asked for, as it refuses her greenlight approve', async () => {
    const env = await setup('identity-self', { spec: wires({ requiredApprovals: 1 }) });
    await grant(env.namespace, { user: 'alice' }, REQUESTER_RULES);
    const tracked = await wire(env, 'self-1', new GreenlightApi(kubeConfigAs('alice')), 'alice');

    const cli = await greenlight('alice', ['approve', 'self-1', '-n', env.namespace]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain(`you asked for ${env.namespace}/self-1; someone else has to approve it`);
    expect(await approveInSlack(env, tracked, 'U0ALICE')).toBe(
      'You asked for this (as alice); someone else has to approve it.',
    );
    const request = await admin.getRequest(env.namespace, 'self-1');
    expect(request.status?.approvals ?? []).toEqual([]);
    expect(request.status?.phase).toBe('Escalated');
  });

  it('does not count the requester’s own answer written around the CLI, and says why', async () => {
    const env = await setup('identity-self-direct', { spec: wires({ requiredApprovals: 1 }) });
    await grant(env.namespace, { user: 'alice' }, REQUESTER_RULES);
    await wire(env, 'self-2', new GreenlightApi(kubeConfigAs('alice')), 'alice');
    await answerAs('alice', env.namespace, 'self-2');
    await eventually(async () => {
      const current = await admin.getRequest(env.namespace, 'self-2');
      expect(current.status?.phase).toBe('Escalated');
      expect(escalatedMessage(current)).toContain(
        'ignored: alice (the requester cannot approve their own request)',
      );
    });
  });
});

describe('answers are bound to what was asked, in the order they arrived', () => {
  it('takes no answer before people are asked, and counts one only for the policy that asked', async () => {
    const held: ApprovalPolicySpec = {
      ...wires(),
      rules: [{ name: 'not-yet', when: '!has(params.ready)', decision: 'Hold', message: 'waiting' }],
    };
    const env = await setup('identity-bound', { spec: held });
    await ci.createRequest(env.namespace, 'wire-5', { action: 'wire', requester: ciUser, parameters: {} });
    await eventually(async () => {
      expect((await admin.getRequest(env.namespace, 'wire-5')).status?.phase).toBe('Pending');
    });
    const early = await greenlight('bob', ['approve', 'wire-5', '-n', env.namespace]);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain('is Pending, not waiting for people');

    // A second policy escalates; bob answers it. Then the first one stops holding and asks too: bob's
    // answer was given to the other policy and does not count for it.
    await greenlightAs('admin').createPolicy(env.namespace, 'treasury', wires());
    await waitForCondition(admin, env.namespace, 'wire-5', 'Escalated');
    expect((await greenlight('bob', ['approve', 'wire-5', '-n', env.namespace])).code).toBe(0);
    const policy = await greenlightAs('admin').getPolicy(env.namespace, 'wires');
    await greenlightAs('admin').replacePolicy({ ...policy, spec: wires() });
    const both = await eventually(async () => {
      const request = await admin.getRequest(env.namespace, 'wire-5');
      expect(escalatedMessage(request)).toContain(
        '1 of 2 approvals given for policy treasury (approvers: group approvers, Slack group S0APPROVERS); 0 of 2 approvals given for policy wires',
      );
      return request;
    });
    expect(
      both.status?.approvals?.map((a) => `${a.approver}:${a.policy}@${String(a.policyGeneration)}`),
    ).toEqual(['bob:treasury@1']);
  });

  it('counts an answer only for the policy generation it was given to', async () => {
    const env = await setup('identity-generation');
    await wire(env, 'wire-6');
    expect((await greenlight('bob', ['approve', 'wire-6', '-n', env.namespace])).code).toBe(0);
    await eventually(async () => {
      const request = await admin.getRequest(env.namespace, 'wire-6');
      expect(escalatedMessage(request)).toContain('1 of 2 approvals given');
    });
    const policy = await greenlightAs('admin').getPolicy(env.namespace, 'wires');
    await greenlightAs('admin').replacePolicy({
      ...policy,
      spec: wires({ approvers: { kubernetesGroups: ['approvers'] } }),
    });
    const reasked = await eventually(async () => {
      const request = await admin.getRequest(env.namespace, 'wire-6');
      expect(escalatedMessage(request)).toContain(
        'bob (given to generation 1 of policy wires, which has changed since (generation 2): answer again)',
      );
      return request;
    });
    expect(reasked.status?.evaluations?.[0]?.policyGeneration).toBe(2);
    expect((await greenlight('bob', ['approve', 'wire-6', '-n', env.namespace])).code).toBe(0);
    expect((await greenlight('alice', ['approve', 'wire-6', '-n', env.namespace])).code).toBe(0);
    const approved = await waitForCondition(admin, env.namespace, 'wire-6', 'Approved');
    expect(approved.status?.decision?.decidedBy).toBe('user:alice');
  });

  it('credits the answer that arrived last, whatever time its author wrote on it', async () => {
    const env = await setup('identity-order');
    await wire(env, 'wire-7');
    await answerAs('bob', env.namespace, 'wire-7', { at: '2099-01-01T00:00:00Z' });
    await answerAs('alice', env.namespace, 'wire-7');
    const approved = await waitForCondition(admin, env.namespace, 'wire-7', 'Approved');
    expect(approved.status?.decision).toMatchObject({
      decidedBy: 'user:alice',
      reason: 'approved by bob, alice',
    });
  });
});

/**
 * An approval written straight to status.approvals (around the CLI), as `identity` with the groups the
 * API server authenticates them with; read again and retried when the controller wrote in between.
 */
function answerAs(
  identity: 'alice' | 'bob',
  namespace: string,
  name: string,
  extra: { at?: string } = {},
): Promise<ApprovalRequest> {
  const api = new GreenlightApi(kubeConfigAs(identity));
  const groups = [...HUMANS[identity].groups, 'system:authenticated'];
  return eventually(async () => {
    const current = await api.getRequest(namespace, name);
    return api.addApprovals(current, answersTo(current, identity, 'Approve', { groups, ...extra }));
  });
}
