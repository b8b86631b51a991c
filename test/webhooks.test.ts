import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoreV1Api } from '@kubernetes/client-node';
import { Webhook } from 'standardwebhooks';
import { afterAll, describe, expect, it } from 'vitest';
import type { ApprovalPolicySpec, Webhook as PolicyWebhook } from '../src/api/v1alpha1/approval-policy.ts';
import type { ApprovalRequest, WebhookDelivery } from '../src/api/v1alpha1/approval-request.ts';
import { GreenlightApi } from '../src/k8s/greenlight-api.ts';
import { answersTo } from './support/answers.ts';
import { cluster, createTestNamespace, kubeConfigAs } from './support/cluster.ts';
import { startController, waitForCondition, type RunningController } from './support/controller.ts';
import {
  electedAmong,
  fastElection,
  killControllerProcesses,
  metricsOf,
  startControllerProcess,
} from './support/controller-process.ts';
import { eventually } from './support/eventually.ts';
import { greenlightAs } from './support/greenlight-objects.ts';
import { APPROVER_RULES, grant, REQUESTER_RULES } from './support/rbac.ts';

// Decision webhooks end to end: the real control plane, the controller, and a real local HTTP
// server as the automation server, which verifies every callback with the standardwebhooks package.

const admin = new GreenlightApi(kubeConfigAs('admin'));
const ci = new GreenlightApi(kubeConfigAs('ci'));
const ciUser = 'system:serviceaccount:ci:deployer';
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  killControllerProcesses();
  for (const cleanup of cleanups.reverse()) await cleanup();
});

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** What the receiver answered. */
  readonly status: number;
  /** The event, when the signature verified; undefined when it did not. */
  readonly verified: { id: string; type: string; data: Record<string, unknown> } | undefined;
}

/** An automation server: answers `failing` requests with 503 first (or all, while `down`), then 204. */
interface Receiver {
  readonly url: string;
  readonly received: Received[];
  failing: number;
  down: boolean;
  /** Another answer, for every request: e.g. a redirect. */
  answer?: { status: number; headers: Record<string, string> };
}

async function receiver(secret: string): Promise<Receiver> {
  const state: Receiver = { url: '', received: [], failing: 0, down: false };
  const webhook = new Webhook(secret);
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let verified: Received['verified'];
      try {
        verified = webhook.verify(body, request.headers as Record<string, string>) as Received['verified'];
      } catch {
        verified = undefined;
      }
      let status = 204;
      if (state.answer) status = state.answer.status;
      else if (state.down || state.failing > 0) {
        state.failing -= 1;
        status = 503;
      }
      state.received.push({ headers: request.headers, body, status, verified });
      response.writeHead(status, state.answer?.headers ?? {}).end(status === 503 ? 'busy' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  );
  return Object.assign(state, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/greenlight`,
  });
}

const newSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

async function createSecret(namespace: string, name: string, value: string): Promise<void> {
  await kubeConfigAs('admin')
    .makeApiClient(CoreV1Api)
    .createNamespacedSecret({
      namespace,
      body: { metadata: { name }, stringData: { secret: value } },
    });
}

const payments = (webhooks: PolicyWebhook[]): ApprovalPolicySpec => ({
  selector: { actions: ['payment'] },
  rules: [
    { name: 'below-500', when: 'params.amount < 500', decision: 'Approve', message: 'below $500' },
    { name: 'over-limit', when: 'params.amount >= 100000', decision: 'Deny', message: 'too much' },
  ],
  defaultDecision: 'Escalate',
  escalation: { approvers: { kubernetesUsers: ['bob'] } },
  notify: { webhooks },
});

const hook = (url: string, extra: Partial<PolicyWebhook> = {}): PolicyWebhook => ({
  url,
  secretRef: { name: 'automation', key: 'secret' },
  ...extra,
});

async function workspace(prefix: string): Promise<{ namespace: string; secret: string }> {
  const namespace = await createTestNamespace(prefix);
  await grant(namespace, { user: ciUser }, REQUESTER_RULES);
  const secret = newSecret();
  await createSecret(namespace, 'automation', secret);
  return { namespace, secret };
}

async function controllerFor(namespace: string): Promise<RunningController> {
  const controller = await startController(namespace, {
    webhooks: { retry: { baseMs: 300, maxMs: 1_000, jitter: 0 } },
  });
  cleanups.push(() => controller.stop());
  return controller;
}

async function pay(namespace: string, name: string, amount: number): Promise<void> {
  await ci.createRequest(namespace, name, {
    action: 'payment',
    resource: `invoice/${name}`,
    requester: ciUser,
    parameters: { amount, currency: 'USD' },
  });
}

/** Waits until the request records this webhook's delivery of the outcome as `result`. */
function recorded(
  namespace: string,
  name: string,
  match: Partial<WebhookDelivery>,
  timeoutMs = 20_000,
): Promise<{ request: ApprovalRequest; entry: WebhookDelivery }> {
  return eventually(
    async () => {
      const request = await admin.getRequest(namespace, name);
      const entry = request.status?.webhooks?.find((known) =>
        Object.entries(match).every(([field, value]) => known[field as keyof WebhookDelivery] === value),
      );
      if (!entry)
        throw new Error(
          `${name}: no webhook entry like ${JSON.stringify(match)} in ${JSON.stringify(request.status?.webhooks)}`,
        );
      return { request, entry };
    },
    { timeoutMs },
  );
}

const idsOf = (target: Receiver): string[] =>
  target.received.map((seen) => String(seen.headers['webhook-id']));

describe('decision webhooks', () => {
  it('delivers a decision once the receiver recovers, signed, the same message every time, and once', async () => {
    const { namespace, secret } = await workspace('webhook-retry');
    const automation = await receiver(secret);
    automation.failing = 3;
    await greenlightAs('admin').createPolicy(namespace, 'payments', payments([hook(automation.url)]));
    const controller = await controllerFor(namespace);
    await pay(namespace, 'inv-42', 450);
    await waitForCondition(admin, namespace, 'inv-42', 'Approved');
    const { request, entry } = await recorded(namespace, 'inv-42', { result: 'Delivered' });
    expect(entry).toMatchObject({
      url: automation.url,
      outcome: 'Approved',
      attempts: 4,
      message: 'HTTP 204',
    });
    expect(request.status?.conditions?.find((c) => c.type === 'WebhooksDelivered')).toMatchObject({
      status: 'True',
      reason: 'Delivered',
    });

    const uid = request.metadata.uid ?? '';
    expect(automation.received.map((seen) => seen.status)).toEqual([503, 503, 503, 204]);
    expect(idsOf(automation)).toEqual(Array(4).fill(`${uid}.Approved`));
    expect(new Set(automation.received.map((seen) => seen.body)).size).toBe(1);
    expect(automation.received.every((seen) => seen.verified !== undefined)).toBe(true);
    expect(automation.received[0]?.headers['content-type']).toBe(
      'application/cloudevents+json; charset=utf-8',
    );
    const event = automation.received[3]?.verified;
    expect(event).toMatchObject({
      specversion: '1.0',
      id: `${uid}.Approved`,
      type: 'dev.greenlight.approvalrequest.approved',
      source: `/apis/greenlight.dev/v1alpha1/namespaces/${namespace}/approvalrequests/inv-42`,
      subject: 'inv-42',
      data: {
        metadata: { name: 'inv-42', namespace, uid },
        spec: { action: 'payment', parameters: { amount: 450, currency: 'USD' } },
        status: {
          phase: 'Approved',
          decision: { outcome: 'Approved', decidedBy: 'policy:payments/below-500' },
        },
      },
    });
    const metrics = (await controller.metrics.metrics()).body;
    expect(metrics).toMatch(/greenlight_webhook_deliveries_total\{result="delivered"\} 1/);
    expect(metrics).toMatch(/greenlight_webhook_deliveries_total\{result="failed"\} 3/);
    expect(metrics).toMatch(/greenlight_webhook_outbox_depth 0/);

    // A restarted controller reads what was delivered from the request and sends nothing again.
    await controller.stop();
    await controllerFor(namespace);
    await pay(namespace, 'inv-44', 100);
    await recorded(namespace, 'inv-44', { result: 'Delivered' });
    expect(idsOf(automation).filter((id) => id === `${uid}.Approved`)).toHaveLength(4);
  });

  it('tells each outcome of a request once: escalated, then denied by a person', async () => {
    const { namespace, secret } = await workspace('webhook-outcomes');
    await grant(namespace, { user: 'bob' }, APPROVER_RULES);
    const automation = await receiver(secret);
    await greenlightAs('admin').createPolicy(namespace, 'payments', payments([hook(automation.url)]));
    await controllerFor(namespace);
    await pay(namespace, 'inv-43', 5000);
    await waitForCondition(admin, namespace, 'inv-43', 'Escalated');
    await recorded(namespace, 'inv-43', { outcome: 'Escalated', result: 'Delivered' });
    const asBob = new GreenlightApi(kubeConfigAs('bob'));
    // As greenlight deny does: read, answer, and read again when the request changed meanwhile.
    await eventually(async () => {
      const escalated = await asBob.getRequest(namespace, 'inv-43');
      return asBob.addApprovals(escalated, answersTo(escalated, 'bob', 'Deny'));
    });
    await waitForCondition(admin, namespace, 'inv-43', 'Denied');
    const { request } = await recorded(namespace, 'inv-43', { outcome: 'Denied', result: 'Delivered' });
    const uid = request.metadata.uid ?? '';
    expect(idsOf(automation).sort()).toEqual([`${uid}.Denied`, `${uid}.Escalated`]);
    const types = automation.received.map((seen) => seen.verified?.type);
    expect(types).toEqual([
      'dev.greenlight.approvalrequest.escalated',
      'dev.greenlight.approvalrequest.denied',
    ]);
    expect(automation.received[1]?.verified?.data).toMatchObject({
      status: { phase: 'Denied', decision: { decidedBy: 'user:bob' } },
    });
    expect(request.status?.webhooks?.map((entry) => entry.outcome).sort()).toEqual(['Denied', 'Escalated']);
  });

  it('refuses cloud metadata addresses, does not follow redirects, and waits for a missing Secret', async () => {
    const { namespace, secret } = await workspace('webhook-refuse');
    const elsewhere = await receiver(secret);
    const redirecting = await receiver(secret);
    redirecting.answer = { status: 302, headers: { location: elsewhere.url } };
    const late = await receiver(secret);
    await greenlightAs('admin').createPolicy(
      namespace,
      'payments',
      payments([
        hook('http://169.254.169.254/latest/meta-data/'),
        hook(redirecting.url),
        hook(late.url, { secretRef: { name: 'not-yet', key: 'secret' } }),
      ]),
    );
    const controller = await controllerFor(namespace);
    await pay(namespace, 'inv-45', 10);
    const metadata = await recorded(namespace, 'inv-45', { url: 'http://169.254.169.254/latest/meta-data/' });
    expect(metadata.entry).toMatchObject({ result: 'Refused', attempts: 1 });
    expect(metadata.entry.message).toContain('169.254.169.254 is a link-local or cloud metadata address');
    const redirect = await recorded(namespace, 'inv-45', { url: redirecting.url, result: 'Failing' });
    expect(redirect.entry.message).toBe(`HTTP 302: redirects are not followed (to ${elsewhere.url})`);
    const missing = await recorded(namespace, 'inv-45', { url: late.url, result: 'Failing' });
    expect(missing.entry.message).toBe(`Secret ${namespace}/not-yet does not exist`);
    expect(missing.request.status?.conditions?.find((c) => c.type === 'WebhooksDelivered')).toMatchObject({
      status: 'False',
    });

    await createSecret(namespace, 'not-yet', secret);
    await recorded(namespace, 'inv-45', { url: late.url, result: 'Delivered' });
    expect(late.received.at(-1)?.verified).toBeDefined();
    expect(elsewhere.received).toEqual([]);
    expect((await controller.metrics.metrics()).body).toMatch(
      /greenlight_webhook_deliveries_total\{result="refused"\} 1/,
    );
  });
});

describe('decision webhooks across leaders (processes)', { timeout: 180_000 }, () => {
  it('a leader SIGKILLed with a delivery pending: the next leader delivers it', async () => {
    const { namespace, secret } = await workspace('webhook-leader');
    const automation = await receiver(secret);
    automation.down = true;
    await greenlightAs('admin').createPolicy(namespace, 'payments', payments([hook(automation.url)]));
    const [leader, standby] = await electedAmong([
      await startControllerProcess(namespace, fastElection(namespace)),
      await startControllerProcess(namespace, fastElection(namespace)),
    ]);
    await ci.createRequest(namespace, 'inv-46', {
      action: 'payment',
      requester: cluster().usernames.ci,
      parameters: { amount: 20 },
    });
    await recorded(namespace, 'inv-46', { result: 'Failing' });
    leader.child.kill('SIGKILL');
    await leader.exited;
    automation.down = false;

    const { entry, request } = await recorded(namespace, 'inv-46', { result: 'Delivered' }, 30_000);
    expect(entry.attempts).toBeGreaterThanOrEqual(2);
    const uid = request.metadata.uid ?? '';
    const delivered = automation.received.filter((seen) => seen.status === 204);
    expect(delivered.map((seen) => seen.headers['webhook-id'])).toEqual([`${uid}.Approved`]);
    expect(delivered[0]?.verified).toBeDefined();
    await eventually(async () => {
      expect(await metricsOf(standby)).toMatch(/greenlight_webhook_deliveries_total\{result="delivered"\} 1/);
    });
    standby.child.kill('SIGTERM');
    expect(await standby.exited).toBe(0);
  });
});
