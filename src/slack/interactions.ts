import type { ObjectCache } from '@kubernetes/client-node';
import type { ApprovalPolicy } from '../api/v1alpha1/approval-policy.ts';
import type { ApprovalRequest, HumanDecision } from '../api/v1alpha1/approval-request.ts';
import { isNotFound, lostRace } from '../k8s/api-errors.ts';
import type { GreenlightApi } from '../k8s/greenlight-api.ts';
import type { Logger } from '../observability/logger.ts';
import type { SlackInteractionResult } from '../observability/metrics.ts';
import { ActionId, describeDecider, parseButtonValue } from './messages.ts';
import type { SlackPeople } from './people.ts';

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
 * A click on Approve or Deny. It counts only from an approver of a policy that escalated the request,
 * never from the requester (unless the policy allows it), and never on a request that is decided,
 * replaced or unknown; the answer is recorded in status.approvals, where the controller counts it.
 */
export async function handleBlockAction(
  action: BlockAction,
  deps: InteractionDeps,
): Promise<InteractionOutcome> {
  const decision = decisionOf(action.actionId);
  const target = parseButtonValue(action.value);
  if (!decision || !target) return { result: 'stale', reply: 'This button is not one of Greenlight’s.' };
  const logger = deps.logger.child({
    namespace: target.namespace,
    name: target.name,
    slackUser: action.user,
  });
  for (let attempt = 1; ; attempt++) {
    const request = await readRequest(deps.api, target.namespace, target.name);
    if (!request) return { result: 'stale', reply: `${target.namespace}/${target.name} no longer exists.` };
    const refusal = stateRefusal(request, target.uid) ?? (await authorityRefusal(request, action.user, deps));
    if (refusal) {
      logger.info('Refused a Slack answer', { result: refusal.result, why: refusal.reply });
      return refusal;
    }
    try {
      await deps.api.addApproval(request, {
        approver: action.user,
        via: 'slack',
        decision,
        at: deps.now().toISOString(),
      });
      logger.info('Recorded a Slack answer', { decision });
      const what = decision === 'Approve' ? 'approval' : 'denial';
      return { result: 'accepted', reply: `Recorded your ${what} of ${target.namespace}/${target.name}.` };
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

async function authorityRefusal(
  request: ApprovalRequest,
  user: string,
  deps: InteractionDeps,
): Promise<InteractionOutcome | undefined> {
  const escalating = (request.status?.evaluations ?? [])
    .filter((e) => e.result === 'Escalate' && !e.dryRun)
    .map((e) => deps.policies.get(e.policy, request.metadata.namespace))
    .filter((policy): policy is ApprovalPolicy => policy !== undefined);
  const allowed: ApprovalPolicy[] = [];
  for (const policy of escalating) if (await deps.people.mayApprove(policy, user)) allowed.push(policy);
  if (allowed.length === 0) {
    const names = escalating.map((policy) => policy.metadata.name).join(', ');
    return { result: 'unauthorized', reply: `You are not an approver of ${names || 'this request'}.` };
  }
  const self = (await deps.people.kubernetesUser(user)) === request.spec.requester;
  if (self && !allowed.some((policy) => policy.spec.escalation?.allowSelfApproval)) {
    return { result: 'self_approval', reply: 'You asked for this; someone else has to approve it.' };
  }
  return undefined;
}
