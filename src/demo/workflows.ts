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
  /** Someone answers once the request waits for people. */
  readonly person?: { readonly who: 'alice'; readonly comment: string };
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
    person: { who: 'alice', comment: 'vendor and amount verified' },
    expect: { phase: 'Approved', decidedBy: 'user:alice' },
  },
];

export interface Identities {
  readonly ci: KubeConfig;
  readonly alice: KubeConfig;
}

const clock = (): string => new Date().toISOString().slice(11, 19);

/** Plays one workflow: the pipeline asks, rules (or a person) decide, every step printed as it happens. */
export async function play(
  workflow: Workflow,
  identities: Identities,
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
        void answer(workflow, request, identities, say);
      }
    },
  });
  if (result.kind === 'timeout') throw new Error(`${namespace}/${name} was not decided within 2 minutes`);
  return result.request;
}

async function answer(
  workflow: Workflow,
  request: ApprovalRequest,
  identities: Identities,
  say: (line: string) => void,
): Promise<void> {
  const person = workflow.person;
  if (!person) return;
  say(
    `  ${clock()}  ${person.who} runs: greenlight approve ${workflow.name} -n ${workflow.namespace} --comment "${person.comment}"`,
  );
  await new GreenlightApi(identities.alice).addApproval(request, {
    approver: person.who,
    via: 'kubernetes',
    decision: 'Approve',
    at: new Date().toISOString(),
    comment: person.comment,
    groups: ['approvers', 'system:authenticated'],
  });
}
