import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { ApprovalPolicySpec } from '../src/api/v1alpha1/approval-policy.ts';
import type { ApprovalRequestStatus, Decision } from '../src/api/v1alpha1/approval-request.ts';
import { refusal } from './support/api-error.ts';
import { cluster, createTestNamespace } from './support/cluster.ts';
import { greenlightAs } from './support/greenlight-objects.ts';

// The generated CRDs (crds/*.yaml, applied by the global setup with kubectl) make the API server
// itself enforce the contract: each bad object is refused with a message that names the field.

const admin = greenlightAs('admin');
const goodRequest = {
  action: 'deploy',
  resource: 'web',
  parameters: { version: 'v2.4.1', environment: 'staging', rollout: { waves: [10, 50, 100] } },
  requester: 'greenlight-admin', // the creator: the admission policy insists
  reason: 'release train 42',
  timeout: '30m',
};

const goodPolicy: ApprovalPolicySpec = {
  selector: { actions: ['payment'], requesters: ['system:serviceaccount:ci:*'] },
  rules: [
    { name: 'small-payments', when: 'params.amount < 500', decision: 'Approve', message: 'below $500' },
    { name: 'huge-payments', when: 'params.amount >= 100000', decision: 'Deny' },
  ],
  context: [
    { name: 'limits', resource: { apiVersion: 'v1', kind: 'ConfigMap', name: 'payment-limits' } },
    {
      name: 'staging',
      resource: { apiVersion: 'v1', kind: 'ConfigMap', nameExpression: "params.service + '-staging'" },
    },
  ],
  escalation: { slack: { channel: '#payments' }, approvers: { kubernetesGroups: ['approvers'] } },
  notify: { slack: { channel: '#workflow-updates' }, on: ['Approved', 'Denied'] },
};

async function refusedRequest(spec: Record<string, unknown>): Promise<string> {
  const namespace = await createTestNamespace('crd-request-refused');
  const refused = await refusal(admin.createRaw(namespace, 'ApprovalRequest', 'bad', spec));
  expect(refused.code).toBe(422);
  return refused.message;
}

async function refusedPolicy(spec: Record<string, unknown>): Promise<string> {
  const namespace = await createTestNamespace('crd-policy-refused');
  const refused = await refusal(admin.createRaw(namespace, 'ApprovalPolicy', 'bad', spec));
  expect(refused.code).toBe(422);
  return refused.message;
}

describe('ApprovalRequest CRD', () => {
  it('accepts a good request and keeps its free-form parameters as written', async () => {
    const namespace = await createTestNamespace('crd-request-good');
    const created = await admin.createRequest(namespace, 'deploy-web', goodRequest);
    expect(created.spec).toEqual(goodRequest);
    expect(created.metadata.generation).toBe(1);
  });

  it.each([
    ['an action with capitals', { ...goodRequest, action: 'Deploy' }, 'spec.action'],
    ['an action longer than 63 characters', { ...goodRequest, action: 'a'.repeat(64) }, 'spec.action'],
    // An omitted requester is the admission policies' business (test/admission.test.ts): filled with
    // the caller on Kubernetes 1.36+, refused with the field named before.
    ['a reason longer than 1024 characters', { ...goodRequest, reason: 'x'.repeat(1025) }, 'spec.reason'],
    ['a resource longer than 253 characters', { ...goodRequest, resource: 'r'.repeat(254) }, 'spec.resource'],
    ['a timeout that is not a duration', { ...goodRequest, timeout: 'forever' }, 'spec.timeout'],
    [
      'a zero timeout',
      { ...goodRequest, timeout: '0s' },
      'spec.timeout: Invalid value: "0s": must be a positive duration',
    ],
    ['parameters that are not an object', { ...goodRequest, parameters: 'amount=5' }, 'spec.parameters'],
  ])('refuses %s, naming the field', async (_case, spec, field) => {
    expect(await refusedRequest(spec)).toContain(field);
  });

  it('refuses any change to the spec once created', async () => {
    const namespace = await createTestNamespace('crd-request-immutable');
    const created = await admin.createRequest(namespace, 'pay', {
      action: 'payment',
      requester: 'greenlight-admin',
    });
    const refused = await refusal(
      admin.replaceRequest({ ...created, spec: { ...created.spec, parameters: { amount: 5 } } }),
    );
    expect(refused.code).toBe(422);
    expect(refused.message).toContain('spec: Invalid value');
    expect(refused.message).toContain('spec is immutable');
  });

  it('allows Pending → Escalated → Approved, then refuses any change of phase or decision', async () => {
    const namespace = await createTestNamespace('crd-request-final');
    let request = await admin.createRequest(namespace, 'pay', {
      action: 'payment',
      requester: 'greenlight-admin',
    });
    request = await admin.replaceRequestStatus(request, { phase: 'Pending' });
    request = await admin.replaceRequestStatus(request, { phase: 'Escalated' });
    const decision: Decision = {
      outcome: 'Approved',
      decidedBy: 'user:bob',
      reason: 'looks right',
      decidedAt: '2026-11-26T10:00:00Z',
    };
    const approved: ApprovalRequestStatus = { phase: 'Approved', decision };
    request = await admin.replaceRequestStatus(request, approved);
    expect(request.status?.phase).toBe('Approved');

    const reopened = await refusal(admin.replaceRequestStatus(request, { ...approved, phase: 'Denied' }));
    expect(reopened.message).toContain('status.phase: Invalid value');
    expect(reopened.message).toContain('status.phase is final');

    const rewritten = await refusal(
      admin.replaceRequestStatus(request, {
        ...approved,
        decision: { ...decision, decidedBy: 'user:mallory' },
      }),
    );
    expect(rewritten.message).toContain('status.decision is final');

    const wiped = await refusal(admin.replaceRequestStatus(request, {}));
    expect(wiped.message).toContain('status.phase is final');

    // Other status fields may still change after the decision (the Slack thread, webhooks, conditions).
    const delivered = {
      url: 'https://automation.example.com/greenlight',
      outcome: 'Approved' as const,
      result: 'Delivered' as const,
      attempts: 2,
      lastAttemptAt: '2026-11-26T10:00:05Z',
      message: 'HTTP 204',
    };
    const annotated = await admin.replaceRequestStatus(request, {
      ...approved,
      slack: { channel: 'C1', ts: '1.2' },
      webhooks: [delivered],
    });
    expect(annotated.status?.slack).toEqual({ channel: 'C1', ts: '1.2' });
    expect(annotated.status?.webhooks).toEqual([delivered]);
    const twice = await refusal(
      admin.replaceRequestStatus(annotated, { ...approved, webhooks: [delivered, delivered] }),
    );
    expect(twice.message).toContain('status.webhooks[1]: Duplicate value');
  });

  it('refuses a final phase without a matching decision', async () => {
    const namespace = await createTestNamespace('crd-request-nodecision');
    const request = await admin.createRequest(namespace, 'pay', {
      action: 'payment',
      requester: 'greenlight-admin',
    });
    const refused = await refusal(admin.replaceRequestStatus(request, { phase: 'Denied' }));
    expect(refused.message).toContain('status.decision');
  });

  it('is listed by kubectl with its short name, category and printer columns', async () => {
    const namespace = await createTestNamespace('crd-request-kubectl');
    await admin.createRequest(namespace, 'deploy-web', goodRequest);
    const { kubectl, kubeconfigs } = cluster();
    const run = (...args: string[]) =>
      promisify(execFile)(kubectl, [`--kubeconfig=${kubeconfigs.admin}`, '-n', namespace, ...args]);
    const { stdout } = await run('get', 'apr');
    expect(stdout.split('\n')[0]?.split(/\s+/)).toEqual([
      'NAME',
      'ACTION',
      'RESOURCE',
      'REQUESTER',
      'PHASE',
      'DECIDED-BY',
      'AGE',
    ]);
    expect(stdout.split('\n')[1]?.split(/\s+/).slice(0, 4)).toEqual([
      'deploy-web',
      'deploy',
      'web',
      'greenlight-admin',
    ]);
    const { stdout: category } = await run('get', 'greenlight', '-o', 'name');
    expect(category.trim()).toBe('approvalrequest.greenlight.dev/deploy-web');
  });
});

describe('ApprovalPolicy CRD', () => {
  it('accepts decision webhooks, with or without a Slack channel', async () => {
    const namespace = await createTestNamespace('crd-policy-webhooks');
    const webhooks = [
      {
        url: 'https://automation.example.com/greenlight?team=payments',
        secretRef: { name: 'greenlight-webhook', key: 'secret' },
        on: ['Approved' as const, 'Denied' as const],
      },
      { url: 'http://automation.finance.svc:8080/hook', secretRef: { name: 'other', key: 'whsec' } },
    ];
    const created = await admin.createPolicy(namespace, 'hooks', { notify: { webhooks } });
    expect(created.spec.notify?.webhooks).toEqual(webhooks);
    const both = await admin.createPolicy(namespace, 'both', {
      notify: { slack: { channel: '#workflow-updates' }, webhooks },
    });
    expect(both.spec.notify?.slack?.channel).toBe('#workflow-updates');
  });

  it('accepts a full policy and fills in the documented defaults', async () => {
    const namespace = await createTestNamespace('crd-policy-good');
    const created = await admin.createPolicy(namespace, 'payments', goodPolicy);
    expect(created.spec.mode).toBe('Enforce');
    expect(created.spec.escalation?.requiredApprovals).toBe(1);
    expect(created.spec.escalation?.allowSelfApproval).toBe(false);
    expect(created.spec.escalation?.timeout).toBe('24h');
    expect(created.spec.rules).toEqual(goodPolicy.rules);
  });

  it.each([
    [
      'duplicate rule names',
      {
        ...goodPolicy,
        rules: [
          { name: 'small-payments', decision: 'Approve' },
          { name: 'small-payments', decision: 'Deny' },
        ],
      },
      'spec.rules: Invalid value: rule names must be unique',
    ],
    [
      'an unknown decision',
      { ...goodPolicy, rules: [{ name: 'r', decision: 'Maybe' }] },
      'spec.rules[0].decision',
    ],
    ['a rule without a name', { ...goodPolicy, rules: [{ decision: 'Deny' }] }, 'spec.rules[0].name'],
    [
      'an escalating rule without escalation',
      { rules: [{ name: 'people', decision: 'Escalate' }] },
      'spec.escalation: Required value: escalation is required',
    ],
    [
      'an escalating default without escalation',
      { defaultDecision: 'Escalate' },
      'escalation is required when a rule or defaultDecision escalates',
    ],
    [
      'a context with both name and nameExpression',
      {
        context: [
          { name: 'x', resource: { apiVersion: 'v1', kind: 'ConfigMap', name: 'a', nameExpression: "'a'" } },
        ],
      },
      'spec.context[0].resource: Invalid value: set exactly one of name and nameExpression',
    ],
    [
      'a context named like a built-in variable',
      { context: [{ name: 'request', resource: { apiVersion: 'v1', kind: 'ConfigMap', name: 'a' } }] },
      'spec.context[0].name',
    ],
    [
      'a context name that is not a CEL identifier',
      { context: [{ name: 'my-status', resource: { apiVersion: 'v1', kind: 'ConfigMap', name: 'a' } }] },
      'spec.context[0].name',
    ],
    [
      'an escalation nobody can approve',
      { escalation: { approvers: {} } },
      'spec.escalation.approvers: Invalid value: approvers must name at least one',
    ],
    [
      'zero required approvals',
      { ...goodPolicy, escalation: { ...goodPolicy.escalation, requiredApprovals: 0 } },
      'spec.escalation.requiredApprovals',
    ],
    [
      'an escalation timeout that is not a duration',
      { ...goodPolicy, escalation: { ...goodPolicy.escalation, timeout: 'one day' } },
      'spec.escalation.timeout',
    ],
    [
      'an unknown notify outcome',
      { ...goodPolicy, notify: { slack: { channel: '#x' }, on: ['Pending'] } },
      'spec.notify.on[0]',
    ],
    ['an unknown mode', { ...goodPolicy, mode: 'Audit' }, 'spec.mode'],
    ['a selector action with capitals', { selector: { actions: ['Deploy'] } }, 'spec.selector.actions[0]'],
    [
      'a notify without a Slack channel or webhooks',
      { ...goodPolicy, notify: { on: ['Approved'] } },
      'spec.notify: Invalid value: notify needs a Slack channel, webhooks, or both',
    ],
    [
      'a webhook that is not http(s)',
      { notify: { webhooks: [{ url: 'ftp://files.example.com/x', secretRef: { name: 's', key: 'k' } }] } },
      'spec.notify.webhooks[0].url',
    ],
    [
      'a webhook URL with a password in it',
      {
        notify: {
          webhooks: [{ url: 'https://bot:hunter2@example.com/hook', secretRef: { name: 's', key: 'k' } }],
        },
      },
      'must not carry user:password',
    ],
    [
      'the same webhook twice',
      {
        notify: {
          webhooks: [
            { url: 'https://example.com/hook', secretRef: { name: 's', key: 'k' } },
            { url: 'https://example.com/hook', secretRef: { name: 't', key: 'k' } },
          ],
        },
      },
      'webhook urls must be unique',
    ],
    [
      'a webhook without a secret',
      { notify: { webhooks: [{ url: 'https://example.com/hook' }] } },
      'spec.notify.webhooks[0].secretRef',
    ],
    [
      'a webhook outcome that does not exist',
      {
        notify: {
          webhooks: [
            { url: 'https://example.com/hook', secretRef: { name: 's', key: 'k' }, on: ['Pending'] },
          ],
        },
      },
      'spec.notify.webhooks[0].on[0]',
    ],
    [
      'a CEL rule longer than 4 KiB',
      { rules: [{ name: 'r', when: 'true || '.repeat(600) + 'true', decision: 'Deny' }] },
      'spec.rules[0].when',
    ],
  ])('refuses %s, naming the field', async (_case, spec, message) => {
    expect(await refusedPolicy(spec)).toContain(message);
  });
});

async function refusedIntake(spec: Record<string, unknown>): Promise<string> {
  const namespace = await createTestNamespace('crd-intake-refused');
  const refused = await refusal(admin.createRaw(namespace, 'ApprovalIntake', 'bad', spec));
  expect(refused.code).toBe(422);
  return refused.message;
}

describe('ApprovalIntake CRD', () => {
  const goodIntake = {
    slack: { channel: '#payments-requests' },
    senders: { slackBots: ['B0PAYBOT'], slackApps: ['A0PAYAPP'], slackUsers: ['U0ALICE', 'W0GRID'] },
    defaults: { timeout: '4h' },
  };

  it('accepts a good intake and is listed by kubectl with its short name, category and columns', async () => {
    const namespace = await createTestNamespace('crd-intake-good');
    const created = await admin.createIntake(namespace, 'payments', goodIntake);
    expect(created.spec).toEqual(goodIntake);
    const { kubectl, kubeconfigs } = cluster();
    const run = (...args: string[]) =>
      promisify(execFile)(kubectl, [`--kubeconfig=${kubeconfigs.admin}`, '-n', namespace, ...args]);
    const { stdout } = await run('get', 'aint');
    expect(stdout.split('\n')[0]?.split(/\s+/)).toEqual(['NAME', 'CHANNEL', 'READY', 'AGE']);
    expect(stdout.split('\n')[1]?.split(/\s+/).slice(0, 2)).toEqual(['payments', '#payments-requests']);
    const { stdout: category } = await run('get', 'greenlight', '-o', 'name');
    expect(category.trim()).toBe('approvalintake.greenlight.dev/payments');
  });

  it.each([
    [
      'nobody who may ask',
      { slack: { channel: 'C0PAYREQ' }, senders: {} },
      'senders must name at least one Slack bot, app or user',
    ],
    [
      'a bot id that is not one',
      { slack: { channel: 'C0PAYREQ' }, senders: { slackBots: ['U0ALICE'] } },
      'spec.senders.slackBots[0]',
    ],
    [
      'a channel that is neither #name nor id',
      { slack: { channel: 'payments requests' }, senders: { slackUsers: ['U0ALICE'] } },
      'spec.slack.channel',
    ],
    [
      'a default timeout that is not a duration',
      { slack: { channel: '#x' }, senders: { slackUsers: ['U0ALICE'] }, defaults: { timeout: 'soon' } },
      'spec.defaults.timeout',
    ],
  ])('refuses %s, naming the field', async (_case, spec, message) => {
    expect(await refusedIntake(spec)).toContain(message);
  });
});
