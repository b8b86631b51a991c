import { parse, plan } from '@bufbuild/cel';
import { messageOf } from '../../errors.ts';
import { measureAst } from './ast-shape.ts';
import { parameterComparisons } from './comparisons.ts';
import { checkExpression, DYN, type StaticType } from './check-expression.ts';
import { environment, signatures } from './environment.ts';
import { instrument } from './instrument.ts';
import { MAX_AST_DEPTH, MAX_AST_NODES, MAX_SOURCE_LENGTH } from './limits.ts';
import { createProgram, Expectation, type CompiledExpression } from './program.ts';
import { positionAt, tokenStart } from './source-position.ts';
import type { ParsedExpression } from './syntax.ts';
import { variableNameProblem } from './variables.ts';

export interface CompileOptions<E extends Expectation> {
  /** The policy's context variable names; `request`, `params` and `now` are always declared. */
  readonly variables: readonly string[];
  readonly expect: E;
}

/** A problem with an expression's source, at a 1-based line and column. */
export interface SourceError {
  readonly message: string;
  readonly line: number;
  readonly column: number;
}

export type CompileResult<E extends Expectation> =
  | { readonly ok: true; readonly program: CompiledExpression<E> }
  | { readonly ok: false; readonly error: SourceError };

type Failure = Extract<CompileResult<Expectation>, { ok: false }>;

const TIMESTAMP: StaticType = 'google.protobuf.Timestamp';
const EXPECTATIONS: ReadonlySet<string> = new Set(Object.values(Expectation));

/**
 * Parses, checks and plans an expression. Everything that can be found without running it is
 * reported here, with its position: syntax errors, size limits, undeclared variables and functions,
 * argument types that no overload takes, and a result type other than the expected one (when known).
 * Never throws.
 */
export function compileExpression<E extends Expectation>(
  source: string,
  options: CompileOptions<E>,
): CompileResult<E> {
  try {
    return compile(source, options);
  } catch (error) {
    return failure(`cannot compile the expression: ${messageOf(error)}`);
  }
}

function compile<E extends Expectation>(
  source: string,
  { variables, expect }: CompileOptions<E>,
): CompileResult<E> {
  if (!EXPECTATIONS.has(expect)) return failure(`expect must be one of ${[...EXPECTATIONS].join(', ')}`);
  const globals = declare(variables);
  if (typeof globals === 'string') return failure(globals);
  if (source.trim() === '') return failure('the expression is empty');
  if (source.length > MAX_SOURCE_LENGTH) {
    return failure(
      `the expression is longer than ${MAX_SOURCE_LENGTH} characters`,
      source,
      MAX_SOURCE_LENGTH,
    );
  }
  const parsed = parseSource(source);
  if ('error' in parsed) return parsed;
  const positions = positionsOf(parsed);
  const at = (id: bigint): number | undefined => {
    const offset = positions.get(id);
    return offset === undefined ? undefined : tokenStart(source, offset);
  };

  const shape = measureAst(parsed.expr);
  if (shape.nodes > MAX_AST_NODES) {
    return failure(
      `the expression has ${shape.nodes} nodes once macros are expanded, more than ${MAX_AST_NODES}`,
    );
  }
  if (shape.depth > MAX_AST_DEPTH) {
    return failure(`the expression nests deeper than ${MAX_AST_DEPTH} levels`, source, at(shape.deepest.id));
  }
  const checked = checkExpression(parsed.expr, { globals, signatures });
  if (!checked.ok) return failure(checked.problem.message, source, at(checked.problem.exprId));
  if (checked.type !== DYN && checked.type !== expect) {
    return failure(`the expression returns ${checked.type}, expected ${expect}`, source, at(parsed.expr.id));
  }

  const instrumented = instrument(parsed.expr, positions);
  const run = plan(environment, instrumented.expr);
  const references = Object.freeze([...checked.references]);
  const program = createProgram(
    {
      source,
      expect,
      variables: Object.freeze([...variables]),
      references,
      parameterComparisons: Object.freeze(parameterComparisons(parsed.expr)),
    },
    { source, expect, references, run, positions: instrumented.positions },
  );
  return { ok: true, program };
}

function declare(variables: readonly string[]): ReadonlyMap<string, StaticType> | string {
  const globals = new Map<string, StaticType>([
    ['request', DYN],
    ['params', DYN],
    ['now', TIMESTAMP],
  ]);
  for (const name of variables) {
    const problem = variableNameProblem(name);
    if (problem !== undefined) return `invalid context variable name: ${problem}`;
    if (globals.has(name)) return `context variable '${name}' is declared twice`;
    globals.set(name, DYN);
  }
  return globals;
}

function parseSource(source: string): ParsedExpression | Failure {
  try {
    return parse(source);
  } catch (error) {
    return parseFailure(error);
  }
}

/** The parser's message and position; it reports where it could not go on. */
function parseFailure(error: unknown): Failure {
  if (error instanceof RangeError && /call stack/i.test(error.message)) {
    return failure('the expression nests too deeply to parse');
  }
  const location = parserLocation(error);
  const message = location?.message ?? messageOf(error);
  return {
    ok: false,
    error: { message, line: location?.line ?? 1, column: location?.column ?? 1 },
  };
}

interface ParserLocation {
  readonly message: string;
  readonly line: number;
  readonly column: number;
}

// The parser's error class is not exported; its instances carry `rawMessage` and `location.start`.
function parserLocation(error: unknown): ParserLocation | undefined {
  if (!(error instanceof Error)) return undefined;
  const { rawMessage, location } = error as Error & { rawMessage?: unknown; location?: { start?: unknown } };
  const start = location?.start as { line?: unknown; column?: unknown } | undefined;
  const line = start?.line;
  const column = start?.column;
  if (typeof rawMessage !== 'string' || typeof line !== 'number' || typeof column !== 'number')
    return undefined;
  return { message: rawMessage, line, column };
}

function positionsOf(parsed: ParsedExpression): ReadonlyMap<bigint, number> {
  const positions = new Map<bigint, number>();
  for (const [id, offset] of Object.entries(parsed.sourceInfo?.positions ?? {})) {
    positions.set(BigInt(id), offset);
  }
  return positions;
}

function failure(message: string, source?: string, offset?: number): Failure {
  const { line, column } =
    source === undefined || offset === undefined ? { line: 1, column: 1 } : positionAt(source, offset);
  return { ok: false, error: { message, line, column } };
}
