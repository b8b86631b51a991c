import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { Webhook } from 'standardwebhooks';
import { APPROVAL_POLICY_PLURAL, type ApprovalPolicySpec } from '../src/api/v1alpha1/approval-policy.ts';
import { APPROVAL_REQUEST_PLURAL, type ApprovalRequest } from '../src/api/v1alpha1/approval-request.ts';
import { API_VERSION, GROUP, VERSION } from '../src/api/v1alpha1/schema.ts';
import { grantRequester } from '../bench/lib/cluster.ts';
import { installUserRoles, linkSlackIdentities } from '../src/demo/setup.ts';
import { GreenlightApi } from '../src/k8s/greenlight-api.ts';
import { startLocalCluster, type LocalCluster } from '../src/local-cluster/control-plane.ts';
import { installAdmissionPolicies, installCrds } from '../src/local-cluster/kubectl.ts';
import { GREENLIGHT_AUTHOR, startSlackEmulator, type SlackEmulator } from '../test/slack-emulator/index.ts';
import { AUDIT_POLICY } from './audit.ts';
import { APPROVE_BELOW, DENY_FROM } from './load.ts';
import type { SlackMessage, WebhookDelivery } from './invariants.ts';
import { Replica } from './replicas.ts';

export interface ChaosCluster {
  readonly local: LocalCluster;
  readonly admin: KubeConfig;
  readonly ci: KubeConfig;
  readonly requester: string;
}

export function kubeConfigFrom(file: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromFile(file);
  return config;
}

/** A control plane whose etcd and kube-apiserver can be killed and started again, set up as the tests set theirs up. */
export async function startChaosCluster(progress: (line: string) => void): Promise<ChaosCluster> {
  const local = await startLocalCluster({
    restartable: true,
    auditPolicy: AUDIT_POLICY,
    onProgress: progress,
  });
  try {
    await installCrds(local.kubectl, local.kubeconfigs.admin);
    await installAdmissionPolicies(local.kubectl, local.kubeconfigs.admin);
    const admin = kubeConfigFrom(local.kubeconfigs.admin);
    await linkSlackIdentities(admin);
    await installUserRoles(admin);
    await grantRequester(admin, local.usernames.ci, 'greenlight-chaos-requester');
    return { local, admin, ci: kubeConfigFrom(local.kubeconfigs.ci), requester: local.usernames.ci };
  } catch (error) {
    await local.stop();
    throw error;
  }
}

const WEBHOOK_SECRET = { name: 'automation', key: 'secret' } as const;

/** The workload's policy: small payments approved, large ones denied, people in Slack for the rest. */
export function paymentsPolicy(webhookUrl: string): ApprovalPolicySpec {
  return {
    selector: { actions: ['payment'] },
    rules: [
      {
        name: 'small',
        when: `params.amount < ${APPROVE_BELOW}`,
        decision: 'Approve',
        message: 'small payment',
      },
      {
        name: 'over-limit',
        when: `params.amount >= ${DENY_FROM}`,
        decision: 'Deny',
        message: 'over the limit',
      },
    ],
    defaultDecision: 'Escalate',
    escalation: { slack: { channel: '#payments-approvals' }, approvers: { slackUsers: ['U0ALICE'] } },
    notify: {
      slack: { channel: '#workflow-updates' },
      on: ['Denied'],
      webhooks: [{ url: webhookUrl, secretRef: WEBHOOK_SECRET, on: ['Denied'] }],
    },
  };
}

/** The automation server: verifies each decision webhook (Standard Webhooks) and can be made to fail. */
export class Receiver {
  readonly deliveries: WebhookDelivery[] = [];
  /** While set, every delivery is answered 503. */
  failing = false;
  readonly #server: Server;

  private constructor(secret: string) {
    const webhook = new Webhook(secret);
    this.#server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let verified = true;
        try {
          webhook.verify(body, request.headers as Record<string, string>);
        } catch {
          verified = false;
        }
        const status = this.failing ? 503 : verified ? 204 : 401;
        const id = request.headers['webhook-id'];
        this.deliveries.push({ id: typeof id === 'string' ? id : '', status, verified });
        response.writeHead(status).end();
      });
    });
  }

  static async start(secret: string): Promise<Receiver> {
    const receiver = new Receiver(secret);
    await new Promise<void>((resolve) => receiver.#server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/greenlight`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) =>
      this.#server.close(() => {
        resolve();
      }),
    );
  }
}

export interface Workspace {
  readonly namespace: string;
  /** The kubeconfig the controllers use. */
  readonly kubeconfig: string;
  readonly slack: SlackEmulator;
  readonly receiver: Receiver;
  readonly replicas: readonly Replica[];
  readonly logDir: string;
  close(): Promise<void>;
}

/**
 * A namespace with the workload's policy, a Slack emulator, a webhook receiver and `replicas`
 * controller processes electing a leader, each connecting through `kubeconfig` (the admin's by
 * default; a proxy's for the silent-watch scenario).
 */
export async function openWorkspace(
  cluster: ChaosCluster,
  scenario: string,
  options: { readonly replicas: number; readonly kubeconfig?: string; readonly runDir: string },
): Promise<Workspace> {
  const namespace = `chaos-${scenario}-${randomBytes(3).toString('hex')}`;
  const core = cluster.admin.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  await core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: WEBHOOK_SECRET.name }, stringData: { [WEBHOOK_SECRET.key]: secret } },
  });
  const receiver = await Receiver.start(secret);
  await cluster.admin.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: APPROVAL_POLICY_PLURAL,
    body: {
      apiVersion: API_VERSION,
      kind: 'ApprovalPolicy',
      metadata: { name: 'payments' },
      spec: paymentsPolicy(receiver.url),
    },
  });
  const slack = await startSlackEmulator({ socketPingIntervalMs: 0 });
  const logDir = join(options.runDir, scenario);
  await mkdir(logDir, { recursive: true });
  const settings = {
    namespace,
    kubeconfig: options.kubeconfig ?? cluster.local.kubeconfigs.admin,
    logDir,
    env: {
      SLACK_BOT_TOKEN: slack.workspace.botToken,
      SLACK_SIGNING_SECRET: slack.workspace.signingSecret,
      SLACK_API_URL: slack.apiUrl,
    },
  };
  const replicas: Replica[] = [];
  for (let index = 0; index < options.replicas; index++) replicas.push(await Replica.start(index, settings));
  return {
    namespace,
    kubeconfig: settings.kubeconfig,
    slack,
    receiver,
    replicas,
    logDir,
    async close() {
      await Promise.all(replicas.map((replica) => replica.stop()));
      await slack.close();
      await receiver.close();
    },
  };
}

/** Every request in the namespace as the API server holds it now. */
export async function listRequests(cluster: ChaosCluster, namespace: string): Promise<ApprovalRequest[]> {
  const api = new GreenlightApi(cluster.admin);
  const all: ApprovalRequest[] = [];
  let token: string | undefined;
  do {
    const page = (await api.listPage(APPROVAL_REQUEST_PLURAL, namespace, token)) as {
      items: ApprovalRequest[];
      metadata?: { continue?: string };
    };
    all.push(...page.items);
    token = page.metadata?.continue === '' ? undefined : page.metadata?.continue;
  } while (token);
  return all;
}

/** Greenlight's messages in the emulator, with the intent keys of every version. */
export function slackMessages(slack: SlackEmulator): SlackMessage[] {
  return slack
    .messages()
    .filter((message) => !message.deleted && message.author.botId === GREENLIGHT_AUTHOR.botId)
    .map((message) => ({
      channel: message.channel,
      ts: message.ts,
      keys: message.history.flatMap((version) => {
        const keys = version.metadata?.event_payload['keys'];
        return typeof keys === 'string' ? keys.split(' ').filter(Boolean) : [];
      }),
      buttons: JSON.stringify(message.blocks ?? []).includes('greenlight_approve'),
    }));
}

/** Decisions counted by the live processes' metrics. */
export async function countedDecisions(
  replicas: readonly Replica[],
): Promise<{ Approved: number; Denied: number }> {
  const counted = { Approved: 0, Denied: 0 };
  for (const replica of replicas) {
    const text = (await replica.metrics()) ?? '';
    for (const line of text.split('\n')) {
      if (!line.startsWith('greenlight_decisions_total{')) continue;
      const value = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (line.includes('outcome="approved"')) counted.Approved += value;
      if (line.includes('outcome="denied"')) counted.Denied += value;
    }
  }
  return counted;
}
