import { childrenOf, isIdent, type Expr } from './syntax.ts';

/** A literal's type, in the words of JSON (what a request's parameters are). */
export type JsonKind = 'bool' | 'number' | 'string' | 'null' | 'list' | 'object';

/** A comparison of a request parameter with a literal: `params.reversible == true`. */
export interface ParameterComparison {
  /** The parameter's path below spec.parameters: ['reversible']. */
  readonly path: readonly string[];
  /** How the expression names it: params.reversible. */
  readonly text: string;
  readonly literal: JsonKind;
}

const COMPARISONS: ReadonlySet<string> = new Set(['_==_', '_!=_', '_<_', '_<=_', '_>_', '_>=_', '@in']);

/**
 * The comparisons of parameters with literals in an expression, found once at compile time. When a
 * rule does not match, the why-trace can then say that a parameter had another type than the literal
 * it was compared with (`reversible=True` given as the string "True" against `true`): CEL compares
 * values of different types as unequal without an error, so nothing else would.
 */
export function parameterComparisons(root: Expr): ParameterComparison[] {
  const found: { id: bigint; comparison: ParameterComparison }[] = [];
  const pending: Expr[] = [root];
  for (let expr = pending.pop(); expr !== undefined; expr = pending.pop()) {
    const comparison = comparisonAt(expr);
    if (comparison) found.push({ id: expr.id, comparison });
    pending.push(...childrenOf(expr));
  }
  // In the order they are written (the parser numbers nodes as it reads them).
  return found.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((entry) => entry.comparison);
}

function comparisonAt(expr: Expr): ParameterComparison | undefined {
  if (expr.exprKind.case !== 'callExpr' || !COMPARISONS.has(expr.exprKind.value.function)) return undefined;
  const [left, right] = expr.exprKind.value.args;
  if (!left || !right) return undefined;
  return compared(left, right) ?? compared(right, left);
}

function compared(parameter: Expr, literal: Expr): ParameterComparison | undefined {
  const path = parameterPath(parameter);
  const kind = literalKind(literal);
  if (path === undefined || kind === undefined) return undefined;
  return { path, text: `params.${path.join('.')}`, literal: kind };
}

/** ['a', 'b'] for params.a.b, params['a'].b or request.spec.parameters.a.b; undefined otherwise. */
function parameterPath(expr: Expr): string[] | undefined {
  const path: string[] = [];
  for (let current: Expr | undefined = expr; current !== undefined;) {
    if (isIdent(current, 'params') || isRequestParameters(current)) {
      return path.length > 0 ? path.reverse() : undefined;
    }
    const step = stepOf(current);
    if (!step) return undefined;
    path.push(step.field);
    current = step.operand;
  }
  return undefined;
}

/** One step into an object: `.field` or `['field']`. */
function stepOf(expr: Expr): { field: string; operand: Expr | undefined } | undefined {
  const kind = expr.exprKind;
  if (kind.case === 'selectExpr' && !kind.value.testOnly) {
    return { field: kind.value.field, operand: kind.value.operand };
  }
  if (kind.case !== 'callExpr' || kind.value.function !== '_[_]') return undefined;
  const key = kind.value.args[1]?.exprKind;
  if (key?.case !== 'constExpr' || key.value.constantKind.case !== 'stringValue') return undefined;
  return { field: key.value.constantKind.value, operand: kind.value.args[0] };
}

function isRequestParameters(expr: Expr): boolean {
  if (expr.exprKind.case !== 'selectExpr' || expr.exprKind.value.field !== 'parameters') return false;
  const spec = expr.exprKind.value.operand;
  if (spec?.exprKind.case !== 'selectExpr' || spec.exprKind.value.field !== 'spec') return false;
  return isIdent(spec.exprKind.value.operand, 'request');
}

const LITERAL_KINDS: Readonly<Partial<Record<string, JsonKind>>> = {
  boolValue: 'bool',
  int64Value: 'number',
  uint64Value: 'number',
  doubleValue: 'number',
  stringValue: 'string',
  nullValue: 'null',
};

function literalKind(expr: Expr): JsonKind | undefined {
  const kind = expr.exprKind;
  if (kind.case === 'listExpr') return 'list';
  if (kind.case !== 'constExpr') return undefined;
  return LITERAL_KINDS[kind.value.constantKind.case ?? ''];
}

/** The JSON kind of a value from a request's parameters. */
export function jsonKindOf(value: unknown): JsonKind {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number' || typeof value === 'bigint') return 'number';
  if (typeof value === 'string') return 'string';
  return 'object';
}

const article = (kind: JsonKind): string =>
  kind === 'object' ? 'an object' : `a ${kind === 'list' ? 'list' : kind}`;

/**
 * For a rule that did not match: each comparison whose parameter had another type than its literal,
 * in words ("params.reversible is the string "True", compared with a bool"). Pure.
 */
export function typeMismatches(
  comparisons: readonly ParameterComparison[],
  parameters: Readonly<Record<string, unknown>> | undefined,
): string[] {
  const notes: string[] = [];
  for (const comparison of comparisons) {
    const value = valueAt(parameters, comparison.path);
    if (value === undefined) continue;
    const kind = jsonKindOf(value);
    // `x in [..]` compares with the list's elements, whose types the literal does not tell.
    if (kind === comparison.literal || comparison.literal === 'list') continue;
    const shown =
      kind === 'string'
        ? `the string ${JSON.stringify(value)}`
        : `${article(kind)} (${JSON.stringify(value)})`;
    const note = `${comparison.text} is ${shown}, compared with ${article(comparison.literal)}`;
    if (!notes.includes(note)) notes.push(note);
  }
  return notes;
}

function valueAt(
  parameters: Readonly<Record<string, unknown>> | undefined,
  path: readonly string[],
): unknown {
  let current: unknown = parameters;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
