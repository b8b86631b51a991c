import type { ObjectCache } from '@kubernetes/client-node';
import type { ApprovalPolicy } from '../api/v1alpha1/approval-policy.ts';
import type { ApprovalRequest, HumanDecision } from '../api/v1alpha1/approval-request.ts';
import { rfc3339 } from '../api/v1alpha1/schema.ts';
import { isNotFound, lostRace } from '../k8s/api-errors.ts';
import type { GreenlightApi } from '../k8s/greenlight-api.ts';
import type { Logger } from '../observability/logger.ts';
import type { SlackInteractionResult } from '../observability/metrics.ts';
import { canonicalUser, isSamePerson } from '../policy/person.ts';
import { hasAnswered, questionsAsked, type Question } from '../policy/questions.ts';
import { ActionId, describeDecider, parseButtonValue } from './messages.ts';
import type { SlackPeople } from './people.ts';
import { askingSlackUser, requesterAliases } from './requester.ts';

/** The parts of a `block_actions` payload Greenlight uses. */
export interface BlockAction {
  readonly user: string;
  readonly actionId: string;
  readonly value: string | undefined;
  readonly channel: string | undefined;
}

interface RawBlockActions {
  readonly type?: unknown;
  readonly user?: { readonly id?: unknown };
  readonly channel?: { readonly id?: unknown };
  readonly container?: { readonly channel_id?: unknown };
  readonly actions?: readonly { readonly action_id?: unknown; readonly value?: unknown }[];
}

function channelOf(body: RawBlockActions): string | undefined {
  const channel = body.channel?.id ?? body.container?.channel_id;
  return typeof channel === 'string' ? channel : undefined;
}

/** Reads a block_actions payload (HTTP or Socket Mode); undefined when it is not one of ours. */
export function parseBlockAction(payload: unknown): BlockAction | undefined {
  const body = (payload ?? {}) as RawBlockActions;
  const action = body.actions?.[0];
  const user = body.user?.id;
  if (body.type !== 'block_actions' || typeof user !== 'string' || typeof action?.action_id !== 'string')
    return undefined;
  return {
    user,
    actionId: action.action_id,
    value: typeof action.value === 'string' ? action.value : undefined,
    channel: channelOf(body),
  };
}

export interface InteractionDeps {
  readonly requests: ObjectCache<ApprovalRequest>;
  readonly policies: ObjectCache<ApprovalPolicy>;
  readonly api: GreenlightApi;
  readonly people: SlackPeople;
  readonly logger: Logger;
  readonly now: () => Date;
}

export interface InteractionOutcome {
  readonly result: SlackInteractionResult;
  /** What the clicker sees, privately. */
  readonly reply: string;
}

const MAX_ATTEMPTS = 5;

const decisionOf = (actionId: string): HumanDecision | undefined =>
  actionId === ActionId.Approve ? 'Approve' : actionId === ActionId.Deny ? 'Deny' : undefined;

async function readRequest(
  api: GreenlightApi,
  namespace: string,
  name: string,
): Promise<ApprovalRequest | undefined> {
  try {
    return await api.getRequest(namespace, name);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * A click on Approve or Deny. It counts only from a person Greenlight can relate to a Kubernetes user
 * (identity rules: docs/security.md), who is an approver of a policy that escalated the request, who is
 * not the requester (unless the policy allows it) and has not answered that policy yet, and only on a
 * request that is waiting for people and is the one the button was made for. The answer is recorded in
 * status.approvals, one entry per policy it answers, where the controller counts it.
 */
export async function handleBlockAction(
  action: BlockAction,
  deps: InteractionDeps,
): Promise<InteractionOutcome> {
  const decision = decisionOf(action.actionId);
  const target = parseButtonValue(action.value);
  if (!decision || !target) return { result: 'stale', reply: 'This button is not one of Greenlight’s.' };
  const where = `${target.namespace}/${target.name}`;
  const logger = deps.logger.child({
    namespace: target.namespace,
    name: target.name,
    slackUser: action.user,
  });
  for (let attempt = 1; ; attempt++) {
    const request = await readRequest(deps.api, target.namespace, target.name);
    if (!request) return { result: 'stale', reply: `${where} no longer exists.` };
    const answer = stateRefusal(request, target.uid) ?? (await answerOf(request, action.user, deps));
    if ('result' in answer) {
      logger.info('Refused a Slack answer', { result: answer.result, why: answer.reply });
      return answer;
    }
    const at = rfc3339(deps.now());
    try {
      await deps.api.addApprovals(
        request,
        answer.questions.map((question) => ({
          approver: action.user,
          via: 'slack' as const,
          kubernetesUser: answer.kubernetesUser,
          decision,
          at,
          policy: question.policy,
          policyGeneration: question.generation,
        })),
      );
      const policies = answer.questions.map((question) => question.policy).join(', ');
      logger.info('Recorded a Slack answer', { decision, kubernetesUser: answer.kubernetesUser, policies });
      const what = decision === 'Approve' ? 'approval' : 'denial';
      return {
        result: 'accepted',
        reply: `Recorded your ${what} of ${where} as ${answer.kubernetesUser} (policy ${policies}).`,
      };
    } catch (error) {
      if (!lostRace(error) || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}

function stateRefusal(request: ApprovalRequest, uid: string): InteractionOutcome | undefined {
  const where = `${request.metadata.namespace ?? ''}/${request.metadata.name ?? ''}`;
  if (request.metadata.uid !== uid)
    return { result: 'stale', reply: `${where} was replaced by a new request; nothing changed.` };
  const decided = request.status?.decision;
  if (decided) {
    return {
      result: 'stale',
      reply: `${where} is already ${decided.outcome} by ${describeDecider(decided.decidedBy)}.`,
    };
  }
  if (request.status?.phase !== 'Escalated')
    return { result: 'stale', reply: `${where} is not waiting for people.` };
  return undefined;
}

/**
 * Whether the clicker asked for the request: they are its requester, or it was made from their own
 * Slack message, or from a Slack user linked to the same Kubernetes user (docs/security.md).
 */
async function isRequester(
  request: ApprovalRequest,
  { slackUser, kubernetesUser }: { readonly slackUser: string; readonly kubernetesUser: string },
  people: SlackPeople,
): Promise<boolean> {
  if (askingSlackUser(request) === slackUser) return true;
  const askedBy = [
    request.spec.requester,
    ...(await requesterAliases(request, (user) => people.askedAs(user))),
  ];
  return askedBy.some((requester) => isSamePerson(canonicalUser(kubernetesUser), requester));
}

/** What the clicker may answer, as whom; or why they may not. */
async function answerOf(
  request: ApprovalRequest,
  slackUser: string,
  deps: InteractionDeps,
): Promise<{ kubernetesUser: string; questions: readonly Question[] } | InteractionOutcome> {
  const link = await deps.people.link(slackUser);
  if (!link.linked) return { result: 'unauthorized', reply: `Your answer was not recorded: ${link.why}.` };
  const { kubernetesUser } = link;
  const asked = questionsAsked(request);
  const mine = await approverOf(asked, request, { slackUser, kubernetesUser }, deps);
  if (mine.length === 0) {
    const names = asked.map((question) => question.policy).join(', ');
    return { result: 'unauthorized', reply: `You are not an approver of ${names || 'this request'}.` };
  }
  const allowed = (await isRequester(request, { slackUser, kubernetesUser }, deps.people))
    ? mine.filter(({ policy }) => policy.spec.escalation?.allowSelfApproval === true)
    : mine;
  if (allowed.length === 0) {
    return {
      result: 'self_approval',
      reply: `You asked for this (as ${kubernetesUser}); someone else has to approve it.`,
    };
  }
  const open = allowed.filter(({ question }) => !hasAnswered(request, kubernetesUser, question));
  if (open.length === 0) {
    return {
      result: 'stale',
      reply: `You already answered as ${kubernetesUser}; an answer is final and counts once.`,
    };
  }
  return { kubernetesUser, questions: open.map(({ question }) => question) };
}

/** The questions the Slack user may answer as an approver, with the policies that ask them. */
async function approverOf(
  asked: readonly Question[],
  request: ApprovalRequest,
  { slackUser, kubernetesUser }: { readonly slackUser: string; readonly kubernetesUser: string },
  deps: InteractionDeps,
): Promise<{ question: Question; policy: ApprovalPolicy }[]> {
  const mine: { question: Question; policy: ApprovalPolicy }[] = [];
  for (const question of asked) {
    const policy = deps.policies.get(question.policy, request.metadata.namespace);
    if (policy && (await deps.people.mayApprove(policy, slackUser, kubernetesUser))) {
      mine.push({ question, policy });
    }
  }
  return mine;
}
