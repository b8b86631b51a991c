import type { ObjectCache } from '@kubernetes/client-node';
import type { ApprovalIntake } from '../../api/v1alpha1/approval-intake.ts';
import { apiMessageOf, isConflict, isNotFound } from '../../k8s/api-errors.ts';
import type { GreenlightApi } from '../../k8s/greenlight-api.ts';
import type { Logger } from '../../observability/logger.ts';
import { intakeFor } from '../../slack/intake.ts';
import { statusChanged } from '../approval-request/status.ts';
import { Keys, type ReconcileOutcome } from '../controller.ts';
import { intakeStatus, type ChannelFacts } from './status.ts';

/** Ready intakes are checked again this often (the bot may be removed from a channel). */
export const RECHECK_READY_MS = 10 * 60_000;
const RECHECK_NOT_READY_MS = 60_000;

/** What the intake reconciler needs of Slack (the Slack integration, when configured). */
export interface ChannelInspector {
  readonly receivesEvents: boolean;
  inspectChannel(channel: string): Promise<{ id: string; isMember: boolean } | undefined>;
  channelId(channel: string): Promise<string | undefined>;
}

export interface IntakeReconcilerDeps {
  readonly intakes: ObjectCache<ApprovalIntake>;
  readonly slack: ChannelInspector | undefined;
  readonly api: GreenlightApi;
  readonly logger: Logger;
  readonly now: () => Date;
}

/**
 * Reports whether Greenlight listens to an intake's channel: Slack configured to send events, the
 * channel found, Greenlight's bot in it, and no older intake on the same channel.
 */
export function approvalIntakeReconciler(
  deps: IntakeReconcilerDeps,
): (key: string) => Promise<ReconcileOutcome> {
  return async (key) => {
    const { namespace, name } = Keys.parse(key);
    const intake = deps.intakes.get(name, namespace);
    if (!intake) return {};
    const facts = await channelFacts(intake, deps);
    const status = intakeStatus(intake, facts, deps.now());
    if (statusChanged(intake.status, status)) {
      try {
        await deps.api.replaceIntakeStatus(intake, status);
      } catch (error) {
        if (isConflict(error) || isNotFound(error)) return { requeue: isConflict(error) };
        throw error;
      }
      const ready = status.conditions?.find((condition) => condition.type === 'Ready');
      deps.logger.info('ApprovalIntake status', {
        namespace,
        name,
        ready: ready?.status,
        reason: ready?.reason,
        message: ready?.message,
      });
    }
    return { requeueAfterMs: facts.kind === 'listening' ? RECHECK_READY_MS : RECHECK_NOT_READY_MS };
  };
}

async function channelFacts(intake: ApprovalIntake, deps: IntakeReconcilerDeps): Promise<ChannelFacts> {
  const { slack } = deps;
  if (!slack) return { kind: 'no-slack' };
  if (!slack.receivesEvents) return { kind: 'no-events' };
  try {
    const channel = await slack.inspectChannel(intake.spec.slack.channel);
    if (!channel) return { kind: 'not-found' };
    if (!channel.isMember) return { kind: 'not-member', id: channel.id };
    const resolved = await Promise.all(
      deps.intakes.list().map(async (other) => ({
        intake: other,
        channelId: await slack.channelId(other.spec.slack.channel),
      })),
    );
    const owner = intakeFor(resolved, channel.id);
    if (owner && owner.metadata.uid !== intake.metadata.uid) {
      return {
        kind: 'taken',
        id: channel.id,
        by: `${owner.metadata.namespace ?? ''}/${owner.metadata.name ?? ''}`,
      };
    }
    return { kind: 'listening', id: channel.id };
  } catch (error) {
    return { kind: 'unavailable', error: apiMessageOf(error) };
  }
}
