import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import type { ApprovalPolicy, ApprovalPolicySpec } from '../api/v1alpha1/approval-policy.ts';
import type {
  ApprovalRequest,
  ApprovalRequestStatus,
  WebhookDelivery,
} from '../api/v1alpha1/approval-request.ts';
import { refusedAddress, refusedHost } from './address.ts';
import { cloudEvent, signedHeaders, signingKey, webhookId } from './cloudevent.ts';
import { dueWebhooks, recordDelivery } from './plan.ts';

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const NOW = Date.parse('2026-11-26T12:00:10Z');

const request = (status: ApprovalRequestStatus, uid = 'u-1'): ApprovalRequest => ({
  apiVersion: 'greenlight.dev/v1alpha1',
  kind: 'ApprovalRequest',
  metadata: { name: 'inv-43', namespace: 'finance', uid },
  spec: {
    action: 'payment',
    resource: 'invoice/INV-43',
    parameters: { amount: 5000 },
    requester: 'slack:B0PAYBOT',
  },
  status,
});

const approved: ApprovalRequestStatus = {
  phase: 'Approved',
  decision: {
    outcome: 'Approved',
    decidedBy: 'slack:U0BOB',
    reason: 'approved by U0BOB (bob)',
    decidedAt: '2026-11-26T12:00:00Z',
  },
  evaluations: [{ policy: 'payments', result: 'Escalate', message: 'default', policyGeneration: 2 }],
};

describe('the CloudEvent', () => {
  it('says what was decided, about which request, the same way every time', () => {
    const event = cloudEvent(request(approved), 'Approved');
    expect(event).toEqual({
      specversion: '1.0',
      id: 'u-1.Approved',
      type: 'dev.greenlight.approvalrequest.approved',
      source: '/apis/greenlight.dev/v1alpha1/namespaces/finance/approvalrequests/inv-43',
      subject: 'inv-43',
      time: '2026-11-26T12:00:00Z',
      datacontenttype: 'application/json',
      data: {
        metadata: { name: 'inv-43', namespace: 'finance', uid: 'u-1' },
        spec: request(approved).spec,
        status: { phase: 'Approved', decision: approved.decision },
      },
    });
    expect(JSON.stringify(cloudEvent(request(approved), 'Approved'))).toBe(JSON.stringify(event));
  });

  it('tells an escalation when it happened, without a decision', () => {
    const event = cloudEvent(
      request({
        phase: 'Escalated',
        conditions: [
          {
            type: 'Escalated',
            status: 'True',
            reason: 'WaitingForPeople',
            message: 'waiting',
            lastTransitionTime: '2026-11-26T11:59:00Z',
          },
        ],
      }),
      'Escalated',
    );
    expect(event.type).toBe('dev.greenlight.approvalrequest.escalated');
    expect(event.time).toBe('2026-11-26T11:59:00Z');
    expect(event.data.status).toEqual({ phase: 'Escalated' });
  });
});

describe('the signature', () => {
  it('verifies with the standardwebhooks package, and fails once the body changes', () => {
    const key = signingKey(SECRET);
    if (!('key' in key)) throw new Error(key.problem);
    const body = JSON.stringify(cloudEvent(request(approved), 'Approved'));
    const headers = signedHeaders(key.key, webhookId('u-1', 'Approved'), body, Math.floor(Date.now() / 1000));
    expect(headers['webhook-id']).toBe('u-1.Approved');
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(SECRET).verify(body, headers)).toMatchObject({ id: 'u-1.Approved' });
    expect(() => new Webhook(SECRET).verify(body.replace('5000', '50'), headers)).toThrow(
      'No matching signature found',
    );
    // The secret without its whsec_ prefix is the same key.
    expect(new Webhook(SECRET.slice('whsec_'.length)).verify(body, headers)).toBeTruthy();
  });

  it.each([
    ['not base64', 'whsec_not base64!', 'is not base64'],
    [
      'too short',
      `whsec_${Buffer.alloc(8).toString('base64')}`,
      'is 8 bytes; a signing secret needs at least 24',
    ],
  ])('refuses a secret that is %s, without saying it', (_case, secret, problem) => {
    const key = signingKey(secret);
    expect('problem' in key && key.problem).toContain(problem);
    expect('problem' in key && key.problem).not.toContain(secret);
  });
});

describe('addresses', () => {
  it.each([
    ['169.254.169.254', true],
    ['169.254.170.2', true],
    ['::ffff:169.254.169.254', true],
    ['fe80::1', true],
    ['fd00:ec2::254', true],
    ['100.100.100.200', true],
    ['168.63.129.16', true],
    ['127.0.0.1', false],
    ['10.96.0.10', false],
    ['192.168.1.5', false],
    ['::1', false],
    ['2001:db8::1', false],
  ])('%s refused: %s', (address, refused) => {
    expect(refusedAddress(address) !== undefined).toBe(refused);
  });

  it('refuses metadata names and bracketed addresses before any lookup', () => {
    expect(refusedHost('metadata.google.internal')).toContain('cloud metadata service');
    expect(refusedHost('METADATA.google.internal.')).toContain('cloud metadata service');
    expect(refusedHost('[fe80::1]')).toContain('link-local');
    expect(refusedHost('automation.finance.svc')).toBeUndefined();
  });
});

describe('which webhooks a request owes', () => {
  const hook = (url: string, on?: ApprovalPolicySpec['notify']) => ({
    url,
    secretRef: { name: 's', key: 'k' },
    ...on,
  });
  const policy = (name: string, generation: number, webhooks: object[]): ApprovalPolicy => ({
    apiVersion: 'greenlight.dev/v1alpha1',
    kind: 'ApprovalPolicy',
    metadata: { name, namespace: 'finance', generation },
    spec: { notify: { webhooks: webhooks as never } },
  });
  const entry = (extra: Partial<WebhookDelivery>): WebhookDelivery => ({
    url: 'https://a.example/hook',
    outcome: 'Approved',
    result: 'Delivered',
    attempts: 1,
    lastAttemptAt: '2026-11-26T12:00:01Z',
    message: 'HTTP 200',
    ...extra,
  });

  it('owes each outcome the policies name to each webhook once, from the time of the outcome', () => {
    const policies = {
      payments: policy('payments', 2, [
        hook('https://a.example/hook'),
        { ...hook('https://b.example/hook'), on: ['Denied'] },
      ]),
    };
    const due = dueWebhooks(request(approved), (name) => policies[name as 'payments'], NOW);
    expect(due).toEqual([
      {
        key: 'u-1/Approved/https://a.example/hook',
        uid: 'u-1',
        namespace: 'finance',
        name: 'inv-43',
        url: 'https://a.example/hook',
        outcome: 'Approved',
        secretRef: { name: 's', key: 'k' },
        since: Date.parse('2026-11-26T12:00:00Z'),
        attempts: 0,
      },
    ]);
  });

  it('sends nothing again that is recorded Delivered or Refused; goes on with what is Failing', () => {
    const policies = { payments: policy('payments', 2, [hook('https://a.example/hook')]) };
    const lookup = (name: string) => policies[name as 'payments'];
    expect(dueWebhooks(request({ ...approved, webhooks: [entry({})] }), lookup, NOW)).toEqual([]);
    expect(
      dueWebhooks(request({ ...approved, webhooks: [entry({ result: 'Refused' })] }), lookup, NOW),
    ).toEqual([]);
    const failing = dueWebhooks(
      request({ ...approved, webhooks: [entry({ result: 'Failing', attempts: 4 })] }),
      lookup,
      NOW,
    );
    expect(failing.map((due) => due.attempts)).toEqual([4]);
    // Another outcome of the same request is its own delivery.
    expect(
      dueWebhooks(request({ ...approved, webhooks: [entry({ outcome: 'Escalated' })] }), lookup, NOW),
    ).toHaveLength(1);
  });

  it('never sends an old decision for the first time to a webhook added to the policy since', () => {
    const changed = { payments: policy('payments', 3, [hook('https://a.example/hook')]) };
    expect(dueWebhooks(request(approved), (name) => changed[name as 'payments'], NOW)).toEqual([]);
  });

  it('owes nothing while Pending, and nothing to dry-run policies', () => {
    const policies = { payments: policy('payments', 2, [hook('https://a.example/hook')]) };
    expect(dueWebhooks(request({ phase: 'Pending' }), (name) => policies[name as 'payments'], NOW)).toEqual(
      [],
    );
    const dryRun = {
      ...approved,
      evaluations: [
        { policy: 'payments', result: 'Escalate' as const, message: 'x', policyGeneration: 2, dryRun: true },
      ],
    };
    expect(dueWebhooks(request(dryRun), (name) => policies[name as 'payments'], NOW)).toEqual([]);
  });

  it('records a result in place and says in a condition whether everything was delivered', () => {
    const now = new Date(NOW);
    let status = recordDelivery(
      approved,
      entry({ result: 'Failing', attempts: 1, message: 'HTTP 503' }),
      1,
      now,
    );
    expect(status.webhooks).toHaveLength(1);
    expect(status.conditions?.find((c) => c.type === 'WebhooksDelivered')).toMatchObject({
      status: 'False',
      reason: 'Failing',
      message: 'https://a.example/hook (Approved): HTTP 503',
    });
    status = recordDelivery(status, entry({ attempts: 2 }), 1, now);
    expect(status.webhooks).toEqual([entry({ attempts: 2 })]);
    expect(status.conditions?.find((c) => c.type === 'WebhooksDelivered')).toMatchObject({
      status: 'True',
      reason: 'Delivered',
    });
    expect(status.decision).toEqual(approved.decision);
  });
});
