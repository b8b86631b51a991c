import type { ApprovalPolicy } from '../api/v1alpha1/approval-policy.ts';
import { compilePolicy, type CompiledPolicy } from './compile-policy.ts';

/**
 * Compiled policies by identity, recompiled only when the generation changes: CEL is compiled once
 * per policy generation, however often requests are evaluated.
 */
export class CompiledPolicyCache {
  readonly #entries = new Map<string, CompiledPolicy>();

  static keyOf(policy: ApprovalPolicy): string {
    return policy.metadata.uid ?? `${policy.metadata.namespace ?? ''}/${policy.metadata.name ?? ''}`;
  }

  get(policy: ApprovalPolicy): CompiledPolicy {
    const key = CompiledPolicyCache.keyOf(policy);
    const cached = this.#entries.get(key);
    if (cached?.generation === (policy.metadata.generation ?? 0)) return cached;
    const compiled = compilePolicy(policy);
    this.#entries.set(key, compiled);
    return compiled;
  }

  delete(policy: ApprovalPolicy): void {
    this.#entries.delete(CompiledPolicyCache.keyOf(policy));
  }

  get size(): number {
    return this.#entries.size;
  }
}
