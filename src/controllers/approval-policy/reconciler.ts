import type { ObjectCache } from '@kubernetes/client-node';
import type { ApprovalPolicy } from '../../api/v1alpha1/approval-policy.ts';
import { isConflict, isNotFound } from '../../k8s/api-errors.ts';
import type { EventRecorder } from '../../k8s/events.ts';
import type { GreenlightApi } from '../../k8s/greenlight-api.ts';
import type { Logger } from '../../observability/logger.ts';
import type { GreenlightMetrics } from '../../observability/metrics.ts';
import type { CompiledPolicyCache } from '../../policy/policy-cache.ts';
import { statusChanged } from '../approval-request/status.ts';
import { Keys, type ReconcileOutcome } from '../controller.ts';
import { policyStatus } from './status.ts';

export interface PolicyReconcilerDeps {
  readonly policies: ObjectCache<ApprovalPolicy>;
  readonly compiled: CompiledPolicyCache;
  readonly api: GreenlightApi;
  readonly events: EventRecorder;
  readonly logger: Logger;
  readonly metrics: Pick<GreenlightMetrics, 'trackPolicy'>;
  readonly now: () => Date;
  /** Re-queues the undecided requests of a namespace: a policy change may decide them. */
  readonly requeueUndecided: (namespace: string) => void;
}

/** Compiles a policy, reports Ready in its status, and re-evaluates the requests it may affect. */
export function approvalPolicyReconciler(
  deps: PolicyReconcilerDeps,
): (key: string) => Promise<ReconcileOutcome> {
  return async (key) => {
    const { namespace, name } = Keys.parse(key);
    deps.requeueUndecided(namespace);
    const policy = deps.policies.get(name, namespace);
    if (!policy) return {};
    deps.metrics.trackPolicy(namespace, name);
    const compiled = deps.compiled.get(policy);
    const status = policyStatus(policy, compiled, deps.now());
    if (!statusChanged(policy.status, status)) return {};
    try {
      await deps.api.replacePolicyStatus(policy, status);
    } catch (error) {
      if (isConflict(error) || isNotFound(error)) return { requeue: isConflict(error) };
      throw error;
    }
    await report(deps, policy, compiled.problems.length === 0, status.conditions?.[0]?.message ?? '');
    return {};
  };
}

async function report(
  deps: PolicyReconcilerDeps,
  policy: ApprovalPolicy,
  ready: boolean,
  message: string,
): Promise<void> {
  const logger = deps.logger.child({ namespace: policy.metadata.namespace, name: policy.metadata.name });
  if (ready) logger.info('Compiled ApprovalPolicy', { generation: policy.metadata.generation });
  else
    logger.warn('ApprovalPolicy is invalid', { generation: policy.metadata.generation, problems: message });
  await deps.events.record(
    policy,
    ready ? 'Normal' : 'Warning',
    ready ? 'Compiled' : 'InvalidPolicy',
    message,
  );
}
