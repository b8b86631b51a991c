import type { KubeConfig } from '@kubernetes/client-node';
import type { ApprovalRequest, ApprovalRequestSpec } from '../api/v1alpha1/approval-request.ts';
import { summarize } from '../cli/describe.ts';
import { waitForDecision } from '../cli/wait.ts';
import { GreenlightApi } from '../k8s/greenlight-api.ts';
import { CI_USERNAME } from '../local-cluster/identities.ts';
import { requestName } from '../slack/intake.ts';
import { DEMO_NAMESPACES } from './setup.ts';

export interface Workflow {
  readonly title: string;
  readonly namespace: string;
  readonly name: string;
  readonly spec: ApprovalRequestSpec;
  /** Someone answers in Slack once the request waits for people. */
  readonly person?: { readonly who: 'alice'; readonly slackUser: string };
  /** How it must end, and who decides: the demo checks it. */
  readonly expect: { readonly phase: 'Approved' | 'Denied'; readonly decidedBy: string };
}

/** The seed article's workflows. */
export const WORKFLOWS: readonly Workflow[] = [
  {
    title: 'A staging deployment of v2.4.1',
    namespace: DEMO_NAMESPACES.delivery,
    name: 'deploy-web-v2-4-1-staging',
    spec: {
      action: 'deploy',
      resource: 'web',
      requester: CI_USERNAME,
      parameters: { version: 'v2.4.1', environment: 'staging' },
      reason: 'release train 42',
    },
    expect: { phase: 'Approved', decidedBy: 'policy:deployments/staging-is-free' },
  },
  {
    title: 'A $450 payment',
    namespace: DEMO_NAMESPACES.finance,
    name: 'payment-inv-42',
    spec: {
      action: 'payment',
      resource: 'invoice/INV-42',
      requester: CI_USERNAME,
      parameters: { amount: 450, currency: 'USD' },
    },
    expect: { phase: 'Approved', decidedBy: 'policy:payments/below-500' },
  },
  {
    title: 'A $5,000 payment',
    namespace: DEMO_NAMESPACES.finance,
    name: 'payment-inv-43',
    spec: {
      action: 'payment',
      resource: 'invoice/INV-43',
      requester: CI_USERNAME,
      parameters: { amount: 5000, currency: 'USD' },
      reason: 'Q4 hardware order',
    },
    person: { who: 'alice', slackUser: 'U0ALICE' },
    expect: { phase: 'Approved', decidedBy: 'slack:U0ALICE' },
  },
];

/** The seed article's loop: a machine asks in Slack, hears back in the thread, and its server is called. */
export interface SlackAsk {
  readonly title: string;
  /** The channel the payments bot asks in (an ApprovalIntake listens to it). */
  readonly channel: string;
  readonly text: string;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly person?: { readonly who: 'alice'; readonly slackUser: string };
  readonly expect: { readonly phase: 'Approved' | 'Denied'; readonly decidedBy: string };
}

export const SLACK_ASKS: readonly SlackAsk[] = [
  {
    title: 'The payments bot asks in #payments-requests: $300 for invoice INV-44',
    channel: '#payments-requests',
    text: 'Approval requested: payment of $300 for invoice INV-44',
    payload: {
      action: 'payment',
      resource: 'invoice/INV-44',
      parameters: { amount: 300, currency: 'USD' },
      reason: 'office supplies',
    },
    expect: { phase: 'Approved', decidedBy: 'policy:payments/below-500' },
  },
  {
    title: 'The payments bot asks in #payments-requests: $7,500 for invoice INV-45',
    channel: '#payments-requests',
    text: 'Approval requested: payment of $7,500 for invoice INV-45',
    payload: {
      action: 'payment',
      resource: 'invoice/INV-45',
      parameters: { amount: 7500, currency: 'USD' },
      reason: 'conference sponsorship',
    },
    person: { who: 'alice', slackUser: 'U0ALICE' },
    expect: { phase: 'Approved', decidedBy: 'slack:U0ALICE' },
  },
];

export interface Identities {
  readonly ci: KubeConfig;
}

/** What the demo shows of Slack, and how a person clicks there and a machine asks there. */
export interface SlackSide {
  /** New messages (and updates) since the last call, as terminal lines. */
  news(): Promise<string[]>;
  /** Clicks Approve on the request's tracking message as this Slack user. */
  approve(request: ApprovalRequest, slackUser: string): Promise<void>;
  /** The payments bot posts in a channel with Greenlight's metadata; resolves with where. */
  ask(
    channel: string,
    text: string,
    payload: Readonly<Record<string, unknown>>,
  ): Promise<{ channel: string; ts: string }>;
}

const clock = (): string => new Date().toISOString().slice(11, 19);

/** Plays one workflow: the pipeline asks, rules (or a person in Slack) decide, every step printed as it happens. */
export async function play(
  workflow: Workflow,
  identities: Identities,
  slack: SlackSide,
  say: (line: string) => void,
): Promise<ApprovalRequest> {
  const { namespace, name } = workflow;
  say(`\n▶ ${workflow.title}`);
  say(
    `  ${clock()}  the CI pipeline asks: ${workflow.spec.action} ${workflow.spec.resource ?? ''} ${JSON.stringify(workflow.spec.parameters ?? {})}`,
  );
  await new GreenlightApi(identities.ci).createRequest(namespace, name, workflow.spec);
  return follow({ person: workflow.person, namespace, name }, identities, slack, say);
}

/**
 * Plays the loop: the payments bot asks in Slack, Greenlight makes the request (named from the
 * message), decides it or asks a person, answers in the thread, and calls the automation server back.
 */
export async function playAsk(
  ask: SlackAsk,
  identities: Identities,
  slack: SlackSide,
  say: (line: string) => void,
): Promise<ApprovalRequest> {
  say(`\n▶ ${ask.title}`);
  say(
    `  ${clock()}  payments-bot posts in ${ask.channel}: "${ask.text}" with metadata greenlight_approval_requested`,
  );
  const posted = await slack.ask(ask.channel, ask.text, ask.payload);
  const namespace = DEMO_NAMESPACES.finance;
  const name = requestName(posted.channel, posted.ts);
  await created(identities.ci, namespace, name);
  say(`  ${clock()}  Greenlight made ${namespace}/${name} (requester slack:B0PAYBOT) from the message`);
  return follow({ person: ask.person, namespace, name }, identities, slack, say);
}

/** Until the request exists: Slack delivers the event and the controller creates it within moments. */
async function created(kubeConfig: KubeConfig, namespace: string, name: string): Promise<void> {
  const api = new GreenlightApi(kubeConfig);
  for (let attempt = 0; attempt < 800; attempt++) {
    try {
      await api.getRequest(namespace, name);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  throw new Error(`${namespace}/${name} was not created from the Slack message within 20 seconds`);
}

async function follow(
  {
    person,
    namespace,
    name,
  }: { readonly person: Workflow['person']; readonly namespace: string; readonly name: string },
  identities: Identities,
  slack: SlackSide,
  say: (line: string) => void,
): Promise<ApprovalRequest> {
  let answered = false;
  const result = await waitForDecision({
    kubeConfig: identities.ci,
    namespace,
    name,
    timeoutMs: 120_000,
    onChange: (request) => {
      say(`  ${clock()}  ${namespace}/${name}: ${summarize(request)}`);
      if (request.status?.phase === 'Escalated' && person && !answered) {
        answered = true;
        void answerInSlack({ person }, request, slack, say);
      }
    },
  });
  if (result.kind === 'timeout') throw new Error(`${namespace}/${name} was not decided within 2 minutes`);
  for (const line of await slack.news()) say(`  ${clock()}  ${line}`);
  return result.request;
}

async function answerInSlack(
  workflow: Pick<Workflow, 'person'>,
  request: ApprovalRequest,
  slack: SlackSide,
  say: (line: string) => void,
): Promise<void> {
  const person = workflow.person;
  if (!person) return;
  for (const line of await slack.news()) say(`  ${clock()}  ${line}`);
  say(`  ${clock()}  ${person.who} clicks Approve in Slack`);
  await slack.approve(request, person.slackUser);
}
