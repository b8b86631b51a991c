import type { ApprovalPolicy, ApprovalPolicyStatus } from '../../api/v1alpha1/approval-policy.ts';
import { formatProblem, type CompiledPolicy } from '../../policy/compile-policy.ts';
import { setConditions } from '../conditions.ts';

/** Ready=True when every expression compiles, else Ready=False with each error and its position. */
export function policyStatus(
  policy: ApprovalPolicy,
  compiled: CompiledPolicy,
  now: Date,
): ApprovalPolicyStatus {
  const generation = policy.metadata.generation ?? 1;
  const ready = compiled.problems.length === 0;
  const rules = compiled.rules.length;
  return {
    observedGeneration: generation,
    conditions: setConditions(
      policy.status?.conditions,
      [
        ready
          ? {
              type: 'Ready',
              status: 'True',
              reason: 'Compiled',
              message: `${rules} rule${rules === 1 ? '' : 's'} compiled; the policy is in force`,
            }
          : {
              type: 'Ready',
              status: 'False',
              reason: 'InvalidPolicy',
              message: `the policy decides nothing until fixed: ${compiled.problems.map(formatProblem).join('; ')}`,
            },
      ],
      generation,
      now,
    ),
  };
}
