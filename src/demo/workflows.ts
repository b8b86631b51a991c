import type { KubeConfig } from '@kubernetes/client-node';
import type { ApprovalRequest, ApprovalRequestSpec } from '../api/v1alpha1/approval-request.ts';
import { summarize } from '../cli/describe.ts';
import { waitForDecision } from '../cli/wait.ts';
import { GreenlightApi } from '../k8s/greenlight-api.ts';
import { CI_USERNAME } from '../local-cluster/identities.ts';
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

export interface Identities {
  readonly ci: KubeConfig;
}

/** What the demo shows of Slack, and how a person clicks there. */
export interface SlackSide {
  /** New messages (and updates) since the last call, as terminal lines. */
  news(): Promise<string[]>;
  /** Clicks Approve on the request's tracking message as this Slack user. */
  approve(request: ApprovalRequest, slackUser: string): Promise<void>;
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
  let answered = false;
  const result = await waitForDecision({
    kubeConfig: identities.ci,
    namespace,
    name,
    timeoutMs: 120_000,
    onChange: (request) => {
      say(`  ${clock()}  ${namespace}/${name}: ${summarize(request)}`);
      if (request.status?.phase === 'Escalated' && workflow.person && !answered) {
        answered = true;
        void answerInSlack(workflow, request, slack, say);
      }
    },
  });
  if (result.kind === 'timeout') throw new Error(`${namespace}/${name} was not decided within 2 minutes`);
  for (const line of await slack.news()) say(`  ${clock()}  ${line}`);
  return result.request;
}

async function answerInSlack(
  workflow: Workflow,
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
