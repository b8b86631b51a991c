import { rfc3339, type Condition, type ConditionStatus } from '../api/v1alpha1/schema.ts';

export interface DesiredCondition {
  readonly type: string;
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message: string;
}

/**
 * Sets conditions the Kubernetes way: `lastTransitionTime` changes only when the status flips, so a
 * condition that stays True keeps the time it became True. Conditions not mentioned are kept.
 */
export function setConditions(
  current: readonly Condition[] | undefined,
  desired: readonly DesiredCondition[],
  generation: number,
  now: Date,
): Condition[] {
  const byType = new Map((current ?? []).map((condition) => [condition.type, condition]));
  for (const wanted of desired) {
    const previous = byType.get(wanted.type);
    byType.set(wanted.type, {
      ...wanted,
      observedGeneration: generation,
      lastTransitionTime: previous?.status === wanted.status ? previous.lastTransitionTime : rfc3339(now),
    });
  }
  return [...byType.values()];
}
