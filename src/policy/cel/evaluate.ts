import { celType, isCelError, type CelValue } from '@bufbuild/cel';
import { messageOf } from '../../errors.ts';
import { PreparedBindings, type Bindings } from './bindings.ts';
import { CostMeter, runMetered } from './cost-meter.ts';
import { COST_LIMIT } from './limits.ts';
import {
  internalsOf,
  type CompiledExpression,
  type Expectation,
  type ExpectedValue,
  type ProgramInternals,
} from './program.ts';
import { positionAt, tokenStart } from './source-position.ts';

/** Why an evaluation produced no value; line and column (1-based) when the failing node is known. */
export interface EvaluationError {
  readonly message: string;
  readonly line?: number;
  readonly column?: number;
}

export type EvaluationResult<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: EvaluationError };

/**
 * Runs a compiled expression against bindings (raw, or prepared once for several expressions).
 * Never throws: a CEL error, a binding that cannot be read, a result of the wrong type and an
 * overrun of the cost limit are all failed results.
 */
export function evaluate<E extends Expectation>(
  program: CompiledExpression<E>,
  bindings: Bindings | PreparedBindings,
): EvaluationResult<ExpectedValue<E>> {
  try {
    const internals = internalsOf(program);
    if (internals === undefined) return failure('not a compiled expression');
    return run<E>(
      internals,
      bindings instanceof PreparedBindings ? bindings : new PreparedBindings(bindings),
    );
  } catch (error) {
    return failure(`evaluation failed: ${messageOf(error)}`);
  }
}

function run<E extends Expectation>(
  internals: ProgramInternals,
  bindings: PreparedBindings,
): EvaluationResult<ExpectedValue<E>> {
  // No prototype: a variable named like an Object.prototype member must not resolve to it.
  const activation = Object.create(null) as Record<string, CelValue>;
  for (const name of internals.references) {
    const conversion = bindings.resolve(name);
    if (!conversion.ok) return failure(conversion.message);
    activation[name] = conversion.value;
  }
  const meter = new CostMeter(COST_LIMIT);
  const value = runMetered(meter, () => internals.run(activation));
  if (meter.overrun !== undefined) return failure(meter.overrun);
  if (isCelError(value)) {
    const offset = value.exprId === undefined ? undefined : internals.positions.get(value.exprId);
    const { source } = internals;
    return failure(
      value.message,
      offset === undefined ? undefined : positionAt(source, tokenStart(source, offset)),
    );
  }
  return asExpected<E>(value, internals.expect);
}

function asExpected<E extends Expectation>(
  value: CelValue,
  expect: Expectation,
): EvaluationResult<ExpectedValue<E>> {
  const matches = expect === 'bool' ? typeof value === 'boolean' : typeof value === 'string';
  // The check above is what ExpectedValue<E> describes; TypeScript cannot follow it through E.
  if (matches) return { ok: true, value: value as ExpectedValue<E> };
  return failure(`expression returned ${celType(value).name}, expected ${expect}`);
}

function failure(
  message: string,
  position?: { line: number; column: number },
): { ok: false; error: EvaluationError } {
  return { ok: false, error: position === undefined ? { message } : { message, ...position } };
}
