import type { Signature } from './environment.ts';
import { describeFunction } from './operators.ts';
import { closestName } from '../../spelling.ts';
import {
  comprehensionParts,
  type Call,
  type Comprehension,
  type Constant,
  type Expr,
  type Select,
  type Struct,
} from './syntax.ts';
import { TYPE_IDENTIFIERS } from './variables.ts';

/**
 * Static checks over a parsed expression, before it ever runs: every identifier is declared, every
 * function exists and takes those arguments, and where the types are known (literals, `now`, results
 * of overloads that all agree) an overload exists for them. Values read from JSON have type 'dyn' and
 * are checked at run time. Uses the overload table of the evaluation environment, so it accepts
 * exactly what evaluation can dispatch.
 */

/** A CEL type name ('int', 'list', 'google.protobuf.Timestamp', …), or DYN when known only at run time. */
export type StaticType = string;
export const DYN: StaticType = 'dyn';

export interface CheckEnvironment {
  readonly globals: ReadonlyMap<string, StaticType>;
  readonly signatures: ReadonlyMap<string, readonly Signature[]>;
}

export interface StaticProblem {
  readonly message: string;
  readonly exprId: bigint;
}

export type CheckResult =
  | { readonly ok: true; readonly type: StaticType; readonly references: ReadonlySet<string> }
  | { readonly ok: false; readonly problem: StaticProblem };

export function checkExpression(root: Expr, env: CheckEnvironment): CheckResult {
  const checker = new Checker(env);
  const type = checker.infer(root, new Map());
  return checker.problem === undefined
    ? { ok: true, type, references: checker.references }
    : { ok: false, problem: checker.problem };
}

type Locals = ReadonlyMap<string, StaticType>;

const CONSTANT_TYPES: ReadonlyMap<string | undefined, StaticType> = new Map([
  ['boolValue', 'bool'],
  ['int64Value', 'int'],
  ['uint64Value', 'uint'],
  ['doubleValue', 'double'],
  ['stringValue', 'string'],
  ['bytesValue', 'bytes'],
  ['nullValue', 'null_type'],
]);

const FIELDLESS_TYPES: ReadonlySet<StaticType> = new Set([
  'bool',
  'bytes',
  'double',
  'int',
  'list',
  'null_type',
  'string',
  'type',
  'uint',
]);
const LIST_INDEX_TYPES: ReadonlySet<StaticType> = new Set(['int', 'uint', 'double', DYN]);
const MAP_KEY_TYPES: ReadonlySet<StaticType> = new Set(['string', 'int', 'uint', 'double', 'bool', DYN]);
const MACROS: ReadonlySet<string> = new Set(['all', 'exists', 'exists_one', 'existsOne', 'map', 'filter']);

class Checker {
  readonly references = new Set<string>();
  problem: StaticProblem | undefined;
  readonly #env: CheckEnvironment;

  constructor(env: CheckEnvironment) {
    this.#env = env;
  }

  infer(expr: Expr, locals: Locals): StaticType {
    const kind = expr.exprKind;
    switch (kind.case) {
      case 'constExpr':
        return constantType(kind.value);
      case 'identExpr':
        return this.#ident(expr, kind.value.name, locals);
      case 'selectExpr':
        return this.#select(expr, kind.value, locals);
      case 'callExpr':
        return this.#call(expr, kind.value, locals);
      case 'listExpr':
        for (const element of kind.value.elements) this.infer(element, locals);
        return 'list';
      case 'structExpr':
        return this.#struct(expr, kind.value, locals);
      case 'comprehensionExpr':
        return this.#comprehension(expr, kind.value, locals);
      case undefined:
        return this.#report('invalid expression', expr);
    }
  }

  /** Keeps the first problem (in evaluation order), and lets the walk go on with type 'dyn'. */
  #report(message: string, expr: Expr): StaticType {
    this.problem ??= { message, exprId: expr.id };
    return DYN;
  }

  #ident(expr: Expr, name: string, locals: Locals): StaticType {
    const local = locals.get(name);
    if (local !== undefined) return local;
    const global = this.#env.globals.get(name);
    if (global !== undefined) {
      this.references.add(name);
      return global;
    }
    if (TYPE_IDENTIFIERS.has(name)) return 'type';
    const visible = [...locals.keys(), ...this.#env.globals.keys()].filter((n) => !n.startsWith('@'));
    const suggestion = closestName(name, visible);
    const hint = suggestion === undefined ? '' : ` (did you mean '${suggestion}'?)`;
    return this.#report(`undeclared reference to '${name}'${hint}`, expr);
  }

  #select(expr: Expr, select: Select, locals: Locals): StaticType {
    if (select.operand === undefined) return this.#report('invalid field selection', expr);
    const operand = this.infer(select.operand, locals);
    if (select.testOnly) return 'bool';
    if (FIELDLESS_TYPES.has(operand)) {
      return this.#report(`cannot select field '${select.field}' on type ${operand}`, expr);
    }
    return DYN;
  }

  #call(expr: Expr, call: Call, locals: Locals): StaticType {
    const receiver = call.target === undefined ? undefined : this.infer(call.target, locals);
    const args = call.args.map((arg) => this.infer(arg, locals));
    switch (call.function) {
      case '_&&_':
      case '_||_':
        return this.#logical(expr, call.function, args);
      case '_?_:_':
        return this.#conditional(expr, args);
      case '_[_]':
        return this.#index(expr, args);
      case '@not_strictly_false':
        return 'bool';
      default:
        return this.#overload(expr, call.function, receiver, args);
    }
  }

  #logical(expr: Expr, name: string, args: readonly StaticType[]): StaticType {
    const wrong = args.find((type) => type !== 'bool' && type !== DYN);
    if (wrong !== undefined) {
      return this.#report(
        `operator '${name === '_&&_' ? '&&' : '||'}' needs bool operands, not ${wrong}`,
        expr,
      );
    }
    return 'bool';
  }

  #conditional(
    expr: Expr,
    [condition = DYN, ifTrue = DYN, ifFalse = DYN]: readonly StaticType[],
  ): StaticType {
    if (condition !== 'bool' && condition !== DYN) {
      return this.#report(`the condition of '? :' must be bool, not ${condition}`, expr);
    }
    return ifTrue === ifFalse ? ifTrue : DYN;
  }

  #index(expr: Expr, [container = DYN, key = DYN]: readonly StaticType[]): StaticType {
    if (container === 'list' && !LIST_INDEX_TYPES.has(key)) {
      return this.#report(`a list index must be an int, not ${key}`, expr);
    }
    if (container === 'map' && !MAP_KEY_TYPES.has(key)) {
      return this.#report(`unsupported map key type: ${key}`, expr);
    }
    if (container !== 'list' && container !== 'map' && container !== DYN) {
      return this.#report(`cannot index type ${container}`, expr);
    }
    return DYN;
  }

  #overload(
    expr: Expr,
    name: string,
    receiver: StaticType | undefined,
    args: readonly StaticType[],
  ): StaticType {
    const candidates = this.#env.signatures.get(name);
    if (candidates === undefined) return this.#report(unknownFunctionMessage(name), expr);
    const isMethod = receiver !== undefined;
    const shaped = candidates.filter(
      (s) => (s.receiver !== undefined) === isMethod && s.params.length === args.length,
    );
    if (shaped.length === 0) return this.#report(shapeMessage(name, candidates, isMethod, args.length), expr);
    const matching = shaped.filter(
      (s) => accepts(s.receiver, receiver) && s.params.every((param, i) => accepts(param, args[i])),
    );
    if (matching.length === 0) {
      const applied = [...(receiver === undefined ? [] : [receiver]), ...args].join(', ');
      return this.#report(`no matching overload for ${describeFunction(name)} applied to (${applied})`, expr);
    }
    const results = new Set(matching.map((s) => s.result));
    const [only] = results;
    return results.size === 1 && only !== undefined ? only : DYN;
  }

  #struct(expr: Expr, struct: Struct, locals: Locals): StaticType {
    if (struct.messageName !== '') {
      return this.#report(`creating messages (${struct.messageName}{…}) is not supported`, expr);
    }
    for (const entry of struct.entries) {
      if (entry.keyKind.case === 'mapKey') {
        const key = this.infer(entry.keyKind.value, locals);
        if (!MAP_KEY_TYPES.has(key)) this.#report(`unsupported map key type: ${key}`, entry.keyKind.value);
      }
      if (entry.value !== undefined) this.infer(entry.value, locals);
    }
    return 'map';
  }

  #comprehension(expr: Expr, comprehension: Comprehension, locals: Locals): StaticType {
    const [range, init, condition, step, result] = comprehensionParts(comprehension);
    if (!range || !init || !condition || !step || !result) return this.#report('invalid comprehension', expr);
    const rangeType = this.infer(range, locals);
    if (rangeType !== 'list' && rangeType !== 'map' && rangeType !== DYN) {
      this.#report(`cannot iterate over type ${rangeType}`, expr);
    }
    const accumulator = this.infer(init, locals);
    const loopLocals = new Map(locals)
      .set(comprehension.iterVar, DYN)
      .set(comprehension.accuVar, accumulator);
    this.infer(condition, loopLocals);
    const stepType = this.infer(step, loopLocals);
    const resultType = stepType === accumulator ? accumulator : DYN;
    return this.infer(result, new Map(locals).set(comprehension.accuVar, resultType));
  }
}

function constantType(constant: Constant): StaticType {
  return CONSTANT_TYPES.get(constant.constantKind.case) ?? DYN;
}

function accepts(param: StaticType | undefined, actual: StaticType | undefined): boolean {
  return param === actual || param === DYN || actual === DYN;
}

function unknownFunctionMessage(name: string): string {
  if (name === 'has') return 'has() takes a field selection, as in has(params.amount)';
  if (MACROS.has(name)) {
    return `'${name}' is a macro: call it on a list or map with a variable name first, as in items.${name}(x, …)`;
  }
  return `undeclared function '${name}'`;
}

function shapeMessage(
  name: string,
  candidates: readonly Signature[],
  isMethod: boolean,
  count: number,
): string {
  const sameStyle = candidates.filter((s) => (s.receiver !== undefined) === isMethod);
  if (sameStyle.length === 0) {
    return isMethod
      ? `'${name}' is not a method: call it as ${name}(…)`
      : `'${name}' is a method: call it as value.${name}(…)`;
  }
  const counts = [...new Set(sameStyle.map((s) => s.params.length))].sort((a, b) => a - b);
  return `${describeFunction(name)} takes ${counts.join(' or ')} argument(s), not ${count}`;
}
