import type { ParameterComparison } from './comparisons.ts';
import type { CelResult, CelValue } from '@bufbuild/cel';

/** What an expression must yield: rule conditions a bool, name expressions a string. */
export const Expectation = { Bool: 'bool', String: 'string' } as const;
export type Expectation = (typeof Expectation)[keyof typeof Expectation];

export type ExpectedValue<E extends Expectation> = E extends 'bool' ? boolean : string;

/** A checked, planned expression; evaluate it any number of times with evaluate(). */
export interface CompiledExpression<E extends Expectation = Expectation> {
  readonly source: string;
  readonly expect: E;
  /** The context variable names it was compiled with. */
  readonly variables: readonly string[];
  /** The variables the expression reads (built-in or context), so a caller can skip fetching the rest. */
  readonly references: readonly string[];
  /** Its comparisons of request parameters with literals (to explain a rule that did not match). */
  readonly parameterComparisons: readonly ParameterComparison[];
}

export interface ProgramInternals {
  readonly source: string;
  readonly expect: Expectation;
  readonly references: readonly string[];
  readonly run: (activation: Record<string, CelValue>) => CelResult;
  /** Source offsets by expression id, to place run-time errors. */
  readonly positions: ReadonlyMap<bigint, number>;
}

// Keeps the planned function out of the public shape, so that nothing runs it without a cost meter.
const internals = new WeakMap<object, ProgramInternals>();

export function createProgram<E extends Expectation>(
  program: CompiledExpression<E>,
  internal: ProgramInternals,
): CompiledExpression<E> {
  const frozen = Object.freeze(program);
  internals.set(frozen, internal);
  return frozen;
}

export function internalsOf(program: unknown): ProgramInternals | undefined {
  return typeof program === 'object' && program !== null ? internals.get(program) : undefined;
}
