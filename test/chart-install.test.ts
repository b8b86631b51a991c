import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuthorizationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebClient } from '@slack/web-api';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApprovalPolicySpec } from '../src/api/v1alpha1/approval-policy.ts';
import { GreenlightApi } from '../src/k8s/greenlight-api.ts';
import { renderKubeconfig } from '../src/local-cluster/kubeconfig.ts';
import { freeLoopbackPort } from '../src/local-cluster/ports.ts';
import { requestName } from '../src/slack/intake.ts';
import { ActionId, buttonValue } from '../src/slack/messages.ts';
import { refusal } from './support/api-error.ts';
import {
  find,
  helmBinary,
  parseManifests,
  run,
  template,
  withValuesFile,
  type KubernetesManifest,
} from './support/chart.ts';
import { CLI, greenlight } from './support/cli.ts';
import { cluster, createTestNamespace, kubeConfigAs } from './support/cluster.ts';
import { waitForCondition } from './support/controller.ts';
import { eventually } from './support/eventually.ts';
import { greenlightAs } from './support/greenlight-objects.ts';
import { startSlackEmulator, type SlackEmulator } from './slack-emulator/index.ts';
import { RECORD_YIELD_MAX_MS } from '../src/webhooks/outbox.ts';

// The chart applied to the real API server (server-side apply, as `helm install` or a GitOps tool would),
// then `greenlight controller` run out of cluster exactly as the chart's Deployment runs it: its
// arguments, its environment (the chart's Slack Secret), and a token of the chart's ServiceAccount.
// The controller decides end to end — by policy, by a person with `greenlight approve`, by a Slack
// click, with a context object — which proves the chart's RBAC is enough, and the same token is
// refused everything else.

interface Installation {
  readonly release: string;
  readonly releaseNamespace: string;
  /** The namespace the controller watches (controller.watchNamespace). */
  readonly namespace: string;
  /** Where policies' context objects live (rbac.contextResources namespaces). */
  readonly contextNamespace: string;
  readonly manifests: readonly KubernetesManifest[];
  readonly serviceAccount: KubeConfig;
  readonly slack: SlackEmulator;
  readonly slackEventsUrl: string;
  readonly metricsUrl: string;
  readonly probesUrl: string;
  readonly logs: string[];
  readonly controller: ChildProcess;
  readonly exited: Promise<number | null>;
}

const admin = new GreenlightApi(kubeConfigAs('admin'));
const ci = new GreenlightApi(kubeConfigAs('ci'));
const cleanups: (() => Promise<void>)[] = [];
let install: Installation;

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A token of the ServiceAccount from the TokenRequest API, in a kubeconfig of its own. */
async function serviceAccountKubeconfig(namespace: string, name: string, dir: string): Promise<string> {
  const adminConfig = kubeConfigAs('admin');
  const token = await adminConfig.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
    namespace,
    name,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const server = adminConfig.getCurrentCluster();
  if (!token.status?.token || !server?.caData)
    throw new Error('no token or CA for the ServiceAccount kubeconfig');
  const path = join(dir, 'controller.kubeconfig');
  const ca = Buffer.from(server.caData, 'base64').toString();
  await writeFile(path, renderKubeconfig(server.server, ca, [{ name, token: token.status.token }]), {
    mode: 0o600,
  });
  return path;
}

/** Binds one of the chart's ClusterRoles to a user in a namespace, and waits until RBAC honours it. */
async function bindClusterRole(
  namespace: string,
  clusterRole: string,
  user: string,
  probe: { resource: string; verb: string },
) {
  const name = `${clusterRole}-${randomBytes(2).toString('hex')}`;
  await kubeConfigAs('admin')
    .makeApiClient(RbacAuthorizationV1Api)
    .createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
        subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: user }],
      },
    });
  await eventually(async () => {
    const review = await kubeConfigAs('admin')
      .makeApiClient(AuthorizationV1Api)
      .createSubjectAccessReview({
        body: { spec: { user, resourceAttributes: { namespace, group: 'greenlight.dev', ...probe } } },
      });
    if (!review.status?.allowed)
      throw new Error(`${user} is not yet bound to ${clusterRole} in ${namespace}`);
  });
}

/**
 * The controller container's command line and environment, as the kubelet would start them: the
 * Deployment's args with the listeners moved to free loopback ports, and its env with Secret
 * references resolved.
 */
async function containerProcess(
  deployment: KubernetesManifest,
  namespace: string,
  ports: { metrics: number; probes: number; slack: number },
): Promise<{ args: string[]; env: Record<string, string> }> {
  const container = (
    deployment['spec'] as {
      template: {
        spec: {
          containers: {
            args: string[];
            env: {
              name: string;
              value?: string;
              valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
            }[];
          }[];
        };
      };
    }
  ).template.spec.containers[0];
  if (!container) throw new Error('the Deployment has no container');
  const listen: Record<string, number> = {
    '--metrics-bind-address': ports.metrics,
    '--health-probe-bind-address': ports.probes,
    '--slack-bind-address': ports.slack,
  };
  const args = container.args.map((arg) => {
    const [flag = ''] = arg.split('=');
    const port = listen[flag];
    return port === undefined ? arg : `${flag}=127.0.0.1:${port}`;
  });
  const core = kubeConfigAs('admin').makeApiClient(CoreV1Api);
  const env: Record<string, string> = {};
  for (const variable of container.env) {
    const ref = variable.valueFrom?.secretKeyRef;
    if (!ref) {
      env[variable.name] = variable.value ?? '';
      continue;
    }
    const secret = await core.readNamespacedSecret({ namespace, name: ref.name });
    const value = secret.data?.[ref.key];
    if (value !== undefined) env[variable.name] = Buffer.from(value, 'base64').toString();
    else if (!ref.optional) throw new Error(`Secret ${ref.name} has no key ${ref.key}`);
  }
  return { args, env };
}

async function createPolicy(namespace: string, name: string, spec: ApprovalPolicySpec): Promise<void> {
  await greenlightAs('admin').createPolicy(namespace, name, spec);
}

async function installAndStart(): Promise<Installation> {
  const [releaseNamespace, namespace, contextNamespace] = await Promise.all([
    createTestNamespace('chart-release'),
    createTestNamespace('chart-watched'),
    createTestNamespace('chart-context'),
  ]);
  const release = `gl-${randomBytes(3).toString('hex')}`;
  const slack = await startSlackEmulator({ socketPingIntervalMs: 0 });
  cleanups.push(() => slack.close());

  // Render and apply. The global setup applied the CRDs already (they are checked against the
  // chart's in chart.test.ts); the admission policies are applied again, identical.
  const rendered = await template({
    release,
    namespace: releaseNamespace,
    values: {
      crds: { enabled: false },
      controller: { watchNamespace: namespace },
      rbac: {
        contextResources: [{ apiGroups: [''], resources: ['configmaps'], namespaces: [contextNamespace] }],
        webhookSecrets: { namespaces: [namespace], names: ['automation-webhook'] },
      },
      slack: {
        enabled: true,
        botToken: slack.workspace.botToken,
        signingSecret: slack.workspace.signingSecret,
        apiUrl: slack.apiUrl,
      },
    },
  });
  const manifests = parseManifests(rendered);
  await withValuesFile({ apiVersion: 'v1', kind: 'List', items: manifests }, async (file) => {
    const applied = await run(cluster().kubectl, [
      `--kubeconfig=${cluster().kubeconfigs.admin}`,
      'apply',
      '--server-side',
      '--field-manager=greenlight-chart',
      '--force-conflicts',
      '-f',
      file,
    ]);
    expect(applied.code, applied.stderr).toBe(0);
  });

  const dir = await mkdtemp(join(tmpdir(), 'greenlight-chart-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const serviceAccountName = find(manifests, 'ServiceAccount').metadata.name;
  const kubeconfig = await serviceAccountKubeconfig(releaseNamespace, serviceAccountName, dir);
  const ports = {
    metrics: await freeLoopbackPort(),
    probes: await freeLoopbackPort(),
    slack: await freeLoopbackPort(),
  };
  const { args, env } = await containerProcess(find(manifests, 'Deployment'), releaseNamespace, ports);
  const controller = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env, KUBECONFIG: kubeconfig },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const logs: string[] = [];
  controller.stderr.on('data', (chunk: Buffer) => logs.push(...chunk.toString().split('\n').filter(Boolean)));
  const exited = new Promise<number | null>((resolve) => controller.once('exit', resolve));
  cleanups.push(async () => {
    controller.kill('SIGTERM');
    await exited;
  });
  const serviceAccount = new KubeConfig();
  serviceAccount.loadFromFile(kubeconfig);
  return {
    release,
    releaseNamespace,
    namespace,
    contextNamespace,
    manifests,
    serviceAccount,
    slack,
    slackEventsUrl: `http://127.0.0.1:${ports.slack}/slack/events`,
    metricsUrl: `http://127.0.0.1:${ports.metrics}/metrics`,
    probesUrl: `http://127.0.0.1:${ports.probes}`,
    logs,
    controller,
    exited,
  };
}

beforeAll(async () => {
  await helmBinary(); // built from its Go module on first use (about a minute and a half), then cached
  install = await installAndStart();
  const { namespace, release } = install;
  const users = cluster().usernames;
  await Promise.all([
    bindClusterRole(namespace, `${release}-greenlight-requester`, users.ci, {
      resource: 'approvalrequests',
      verb: 'create',
    }),
    bindClusterRole(namespace, `${release}-greenlight-approver`, users.alice, {
      resource: 'approvalpolicies',
      verb: 'approve',
    }),
  ]);
  await createPolicy(namespace, 'auto', {
    selector: { actions: ['auto'] },
    rules: [{ name: 'yes', decision: 'Approve', message: 'approved by the chart test policy' }],
  });
  await createPolicy(namespace, 'payments', {
    selector: { actions: ['payment'] },
    escalation: {
      slack: { channel: '#payments-approvals' },
      approvers: { slackUsers: ['U0ALICE'], kubernetesUsers: [users.alice] },
    },
  });
  await createPolicy(namespace, 'freeze', {
    selector: { actions: ['deploy'] },
    context: [
      {
        name: 'freeze',
        resource: {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          namespace: install.contextNamespace,
          name: 'release-freeze',
        },
      },
    ],
    rules: [
      {
        name: 'not-frozen',
        when: "freeze != null && freeze.data.frozen == 'false'",
        decision: 'Approve',
        message: 'no release freeze',
      },
    ],
    defaultDecision: 'Deny',
  });
  await createPolicy(namespace, 'secrets', {
    selector: { actions: ['peek'] },
    context: [
      {
        name: 'token',
        resource: { apiVersion: 'v1', kind: 'Secret', namespace: install.contextNamespace, name: 'token' },
      },
    ],
    rules: [{ name: 'has-token', when: 'token != null', decision: 'Approve', message: 'the token exists' }],
    defaultDecision: 'Deny',
  });
  await eventually(
    async () => {
      expect((await fetch(`${install.probesUrl}/readyz`)).status).toBe(200);
      expect(await (await fetch(install.metricsUrl)).text()).toContain(
        'leader_election_master_status{name="greenlight-controller"} 1',
      );
    },
    { timeoutMs: 30_000 },
  );
}, 600_000);

describe('the chart applied to the API server, its controller run out of cluster with its ServiceAccount', () => {
  it('leads through the Lease in the release namespace', async () => {
    const lease = await kubeConfigAs('admin')
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ namespace: install.releaseNamespace, name: 'greenlight-controller' });
    expect(lease.spec?.holderIdentity).toBeTruthy();
  });

  it('decides by policy, records the decision as an event and marks the policy Ready', async () => {
    const { namespace } = install;
    await ci.createRequest(namespace, 'auto-1', { action: 'auto', requester: cluster().usernames.ci });
    const decided = await waitForCondition(admin, namespace, 'auto-1', 'Approved');
    expect(decided.status?.decision?.decidedBy).toBe('policy:auto/yes');
    await eventually(async () => {
      const events = await kubeConfigAs('admin').makeApiClient(CoreV1Api).listNamespacedEvent({ namespace });
      expect(
        events.items.some((event) => event.reason === 'Approved' && event.involvedObject.name === 'auto-1'),
      ).toBe(true);
      const policy = (await kubeConfigAs('admin').makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
        group: 'greenlight.dev',
        version: 'v1alpha1',
        namespace,
        plural: 'approvalpolicies',
        name: 'auto',
      })) as { status?: { conditions?: { type: string; status: string }[] } };
      expect(policy.status?.conditions).toContainEqual(
        expect.objectContaining({ type: 'Ready', status: 'True' }),
      );
    });
  });

  it('escalates to Slack and takes a person’s `greenlight approve` (a SubjectAccessReview for approve)', async () => {
    const { namespace, slack } = install;
    await ci.createRequest(namespace, 'pay-1', {
      action: 'payment',
      requester: cluster().usernames.ci,
      parameters: { amount: 5000 },
    });
    await waitForCondition(admin, namespace, 'pay-1', 'Escalated');
    const tracked = await eventually(async () => {
      const slackStatus = (await admin.getRequest(namespace, 'pay-1')).status?.slack;
      if (!slackStatus?.ts) throw new Error('no Slack message recorded yet');
      return slackStatus;
    });
    expect(tracked.channel).toBe('C0PAYMENTS');
    expect(slack.message(tracked.channel, tracked.ts)?.text).toContain('Approval needed: payment');
    const answered = await greenlight('alice', ['approve', 'pay-1', '-n', namespace, '--comment', 'fine']);
    expect(answered.code, answered.stderr).toBe(0);
    const approved = await waitForCondition(admin, namespace, 'pay-1', 'Approved');
    expect(approved.status?.decision?.decidedBy).toBe(`user:${cluster().usernames.alice}`);
  });

  it('takes an approval clicked in Slack (the controller appends it to the request’s status)', async () => {
    const { namespace, slack, slackEventsUrl } = install;
    await ci.createRequest(namespace, 'pay-2', {
      action: 'payment',
      requester: cluster().usernames.ci,
      parameters: { amount: 7000 },
    });
    const request = await eventually(async () => {
      const current = await admin.getRequest(namespace, 'pay-2');
      if (!current.status?.slack?.ts) throw new Error('no Slack message recorded yet');
      return current;
    });
    const click = await slack.click({
      via: 'http',
      requestUrl: slackEventsUrl,
      user: 'U0ALICE',
      actionId: ActionId.Approve,
      value: buttonValue(request),
      channel: request.status?.slack?.channel ?? '',
      messageTs: request.status?.slack?.ts ?? '',
    });
    expect(click.via === 'http' && click.status).toBe(200);
    const approved = await waitForCondition(admin, namespace, 'pay-2', 'Approved');
    expect(approved.status?.decision?.decidedBy).toBe('slack:U0ALICE');
  });

  it('reads the context objects it was granted (rbac.contextResources)', async () => {
    const { namespace, contextNamespace } = install;
    await kubeConfigAs('admin')
      .makeApiClient(CoreV1Api)
      .createNamespacedConfigMap({
        namespace: contextNamespace,
        body: { metadata: { name: 'release-freeze' }, data: { frozen: 'false' } },
      });
    await ci.createRequest(namespace, 'deploy-1', { action: 'deploy', requester: cluster().usernames.ci });
    const approved = await waitForCondition(admin, namespace, 'deploy-1', 'Approved');
    expect(approved.status?.decision?.decidedBy).toBe('policy:freeze/not-frozen');
  });

  it('cannot read a kind it was not granted as context: the policy waits, and says why', async () => {
    const { namespace, contextNamespace } = install;
    await kubeConfigAs('admin')
      .makeApiClient(CoreV1Api)
      .createNamespacedSecret({
        namespace: contextNamespace,
        body: { metadata: { name: 'token' }, stringData: { token: 'x' } },
      });
    await ci.createRequest(namespace, 'peek-1', { action: 'peek', requester: cluster().usernames.ci });
    const waiting = await eventually(
      async () => {
        const request = await admin.getRequest(namespace, 'peek-1');
        const evaluation = request.status?.evaluations?.find((e) => e.policy === 'secrets');
        if (!evaluation) throw new Error('peek-1 is not evaluated yet');
        return { request, evaluation };
      },
      { timeoutMs: 30_000 },
    );
    expect(waiting.evaluation.result).toBe('Error');
    expect(waiting.evaluation.message).toContain(`waiting for context: Secret ${contextNamespace}/token`);
    expect(waiting.evaluation.message).toMatch(/forbidden|403/i);
    expect(waiting.request.status?.phase).toBe('Pending');
  });

  it('is refused what it should not do with its ServiceAccount token', async () => {
    const { serviceAccount, namespace, contextNamespace, releaseNamespace } = install;
    const core = serviceAccount.makeApiClient(CoreV1Api);
    const objects = serviceAccount.makeApiClient(CustomObjectsApi);
    const leases = serviceAccount.makeApiClient(CoordinationV1Api);
    const greenlightResource = (plural: string, inNamespace: string) => ({
      group: 'greenlight.dev',
      version: 'v1alpha1',
      namespace: inNamespace,
      plural,
    });
    const refused: (() => Promise<unknown>)[] = [
      // Secrets, anywhere.
      () => core.readNamespacedSecret({ namespace: contextNamespace, name: 'token' }),
      () => core.listNamespacedSecret({ namespace }),
      () => core.listNamespacedSecret({ namespace: releaseNamespace }),
      () => core.listSecretForAllNamespaces(),
      // Context kinds only where declared.
      () => core.listNamespacedConfigMap({ namespace }),
      () => core.listConfigMapForAllNamespaces(),
      // Greenlight's kinds only in the watched namespace, and never written but for status.
      () => objects.listNamespacedCustomObject(greenlightResource('approvalrequests', contextNamespace)),
      () =>
        objects.createNamespacedCustomObject({
          ...greenlightResource('approvalpolicies', namespace),
          body: {
            apiVersion: 'greenlight.dev/v1alpha1',
            kind: 'ApprovalPolicy',
            metadata: { name: 'mine' },
            spec: {},
          },
        }),
      () =>
        objects.createNamespacedCustomObject({
          ...greenlightResource('approvalrequests', namespace),
          body: {
            apiVersion: 'greenlight.dev/v1alpha1',
            kind: 'ApprovalRequest',
            metadata: { name: 'mine' },
            spec: { action: 'x', requester: 'x' },
          },
        }),
      () =>
        objects.deleteNamespacedCustomObject({
          ...greenlightResource('approvalrequests', namespace),
          name: 'auto-1',
        }),
      // Leases: only its own, in the release namespace.
      () => leases.listNamespacedLease({ namespace: releaseNamespace }),
      () => leases.readNamespacedLease({ namespace, name: 'greenlight-controller' }),
      () => leases.readNamespacedLease({ namespace: releaseNamespace, name: 'someone-else' }),
      // Nothing else in the cluster.
      () => core.listNamespacedPod({ namespace }),
      () =>
        serviceAccount.makeApiClient(RbacAuthorizationV1Api).createNamespacedRoleBinding({
          namespace,
          body: {
            metadata: { name: 'escalate' },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
            subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'mallory' }],
          },
        }),
    ];
    for (const call of refused) expect((await refusal(call())).code).toBe(403);
  });

  it('makes a request of a bot’s message in a channel an intake listens to, and says the intake is Ready', async () => {
    const { namespace, slack, slackEventsUrl } = install;
    await greenlightAs('admin').createIntake(namespace, 'requests', {
      slack: { channel: '#payments-requests' },
      senders: { slackBots: ['B0PAYBOT'] },
    });
    await eventually(async () => {
      const intake = await greenlightAs('admin').getIntake(namespace, 'requests');
      expect(intake.status?.conditions).toContainEqual(
        expect.objectContaining({ type: 'Ready', status: 'True' }),
      );
    });
    expect((await slack.subscribeEvents({ via: 'http', requestUrl: slackEventsUrl })).verified).toBe(true);
    const bot = new WebClient('xoxb-payments-bot', {
      slackApiUrl: slack.apiUrl,
      retryConfig: { retries: 0 },
    });
    const { ts = '' } = await bot.chat.postMessage({
      channel: '#payments-requests',
      text: 'May I?',
      metadata: { event_type: 'greenlight_approval_requested', event_payload: { action: 'auto' } },
    });
    const approved = await waitForCondition(admin, namespace, requestName('C0PAYREQ', ts), 'Approved');
    expect(approved.spec.requester).toBe('slack:B0PAYBOT');
    await slack.waitFor(
      () =>
        slack
          .messages('C0PAYREQ')
          .some(
            (reply) => reply.threadTs === ts && reply.metadata?.event_type === 'greenlight_approval_decided',
          ),
      10_000,
    );
    slack.unsubscribeEvents();
  });

  it(
    'signs decision webhooks with a Secret it may get by name (rbac.webhookSecrets), and no other',
    { timeout: 90_000 },
    async () => {
      const { namespace, serviceAccount } = install;
      const secret = `whsec_${randomBytes(32).toString('base64')}`;
      const core = kubeConfigAs('admin').makeApiClient(CoreV1Api);
      await core.createNamespacedSecret({
        namespace,
        body: { metadata: { name: 'automation-webhook' }, stringData: { secret } },
      });
      await core.createNamespacedSecret({
        namespace,
        body: { metadata: { name: 'other' }, stringData: { x: 'y' } },
      });
      const verified: string[] = [];
      const server = createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          const event = new Webhook(secret).verify(
            Buffer.concat(chunks).toString('utf8'),
            request.headers as Record<string, string>,
          ) as { type: string };
          verified.push(event.type);
          response.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      cleanups.push(
        () =>
          new Promise<void>((resolve) =>
            server.close(() => {
              resolve();
            }),
          ),
      );
      await createPolicy(namespace, 'hooked', {
        selector: { actions: ['hooked'] },
        rules: [{ name: 'yes', decision: 'Approve' }],
        notify: {
          webhooks: [
            {
              url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
              secretRef: { name: 'automation-webhook', key: 'secret' },
            },
          ],
        },
      });
      await ci.createRequest(namespace, 'hooked-1', { action: 'hooked', requester: cluster().usernames.ci });
      // This controller serves every namespace, so it is deciding other tests' requests meanwhile, and
      // results wait for decisions to pause, up to RECORD_YIELD_MAX_MS.
      await eventually(
        async () => {
          const request = await admin.getRequest(namespace, 'hooked-1');
          expect(request.status?.webhooks?.[0]).toMatchObject({ result: 'Delivered' });
        },
        { timeoutMs: RECORD_YIELD_MAX_MS + 15_000, intervalMs: 250 },
      );
      expect(verified).toEqual(['dev.greenlight.approvalrequest.approved']);
      expect(
        (
          await refusal(
            serviceAccount.makeApiClient(CoreV1Api).readNamespacedSecret({ namespace, name: 'other' }),
          )
        ).code,
      ).toBe(403);
    },
  );

  it('runs as the chart deploys it: JSON logs, no secrets in them', () => {
    const lines = install.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.some((line) => line['msg'] === 'Starting Greenlight controller')).toBe(true);
    expect(install.logs.join('\n')).not.toContain(install.slack.workspace.botToken);
    expect(install.logs.join('\n')).not.toContain(install.slack.workspace.signingSecret);
  });
});
