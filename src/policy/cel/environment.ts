import { celEnv, type CelEnv, type CelFunc } from '@bufbuild/cel';
import { concatenations } from './concatenation.ts';
import { Hook, hookFunctions } from './hooks.ts';
import { meteredFunctions } from './metered-functions.ts';

/** One overload as the static checker sees it: CEL type names, 'dyn' accepting anything. */
export interface Signature {
  readonly receiver: string | undefined;
  readonly params: readonly string[];
  readonly result: string;
}

/** The one environment every policy expression is planned in. */
export const environment: CelEnv = celEnv({
  funcs: [...meteredFunctions(), ...concatenations(), ...hookFunctions()],
});

/** The overloads an expression may call, by function name (hooks excluded). */
export const signatures: ReadonlyMap<string, readonly Signature[]> = signaturesOf(environment.funcs);

function signaturesOf(funcs: Iterable<CelFunc>): ReadonlyMap<string, readonly Signature[]> {
  const hooks: ReadonlySet<string> = new Set(Object.values(Hook));
  const byName = new Map<string, Signature[]>();
  for (const fn of funcs) {
    if (hooks.has(fn.name)) continue;
    const overloads = byName.get(fn.name) ?? [];
    overloads.push({
      receiver: fn.target?.name,
      params: fn.arguments.map((type) => type.name),
      result: fn.result.name,
    });
    byName.set(fn.name, overloads);
  }
  return byName;
}
