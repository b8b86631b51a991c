import { Hook } from './hooks.ts';
import {
  callNode,
  childrenOf,
  countNodes,
  intNode,
  isIdent,
  isStringConstant,
  type Call,
  type Comprehension,
  type Expr,
  type StructEntry,
} from './syntax.ts';

export interface Instrumented {
  readonly expr: Expr;
  /** Source offsets by expression id, including the nodes instrumentation added. */
  readonly positions: ReadonlyMap<bigint, number>;
}

/**
 * Rewrites a checked expression so that evaluating it charges the cost meter (see hooks.ts):
 * - every comprehension: its range goes through @gl_range, its loop condition through @gl_iteration
 *   (charging one unit plus the loop body's node count per iteration);
 * - the `map`/`filter` step `@result + [element]` becomes @gl_append(@result, element);
 * - `container[key]` with a computed key becomes @gl_index(container, key).
 * Returns a new tree; the parsed one is left as it was.
 */
export function instrument(root: Expr, positions: ReadonlyMap<bigint, number>): Instrumented {
  const rewriter = new Rewriter(positions, maxId(root) + 1n);
  return { expr: rewriter.rewrite(root), positions: rewriter.positions };
}

function maxId(root: Expr): bigint {
  let max = root.id;
  const pending = [root];
  for (let expr = pending.pop(); expr !== undefined; expr = pending.pop()) {
    if (expr.id > max) max = expr.id;
    pending.push(...childrenOf(expr));
  }
  return max;
}

class Rewriter {
  readonly positions: Map<bigint, number>;
  #nextId: bigint;

  constructor(positions: ReadonlyMap<bigint, number>, firstFreeId: bigint) {
    this.positions = new Map(positions);
    this.#nextId = firstFreeId;
  }

  rewrite(expr: Expr): Expr {
    const kind = expr.exprKind;
    switch (kind.case) {
      case 'selectExpr':
        return kind.value.operand === undefined
          ? expr
          : withKind(expr, {
              case: 'selectExpr',
              value: { ...kind.value, operand: this.rewrite(kind.value.operand) },
            });
      case 'callExpr':
        return this.#call(expr, kind.value);
      case 'listExpr':
        return withKind(expr, {
          case: 'listExpr',
          value: { ...kind.value, elements: kind.value.elements.map((e) => this.rewrite(e)) },
        });
      case 'structExpr':
        return withKind(expr, {
          case: 'structExpr',
          value: { ...kind.value, entries: kind.value.entries.map((e) => this.#entry(e)) },
        });
      case 'comprehensionExpr':
        return this.#comprehension(expr, kind.value);
      case 'constExpr':
      case 'identExpr':
      case undefined:
        return expr;
    }
  }

  #call(expr: Expr, call: Call): Expr {
    const args = call.args.map((arg) => this.rewrite(arg));
    const [container, key] = args;
    if (call.function === '_[_]' && container && key && !isStringConstant(key)) {
      return callNode(expr.id, Hook.Index, [container, key]);
    }
    const target = call.target === undefined ? {} : { target: this.rewrite(call.target) };
    return withKind(expr, { case: 'callExpr', value: { ...call, ...target, args } });
  }

  #entry(entry: StructEntry): StructEntry {
    const keyKind =
      entry.keyKind.case === 'mapKey'
        ? { case: 'mapKey' as const, value: this.rewrite(entry.keyKind.value) }
        : entry.keyKind;
    return { ...entry, keyKind, ...(entry.value === undefined ? {} : { value: this.rewrite(entry.value) }) };
  }

  #comprehension(expr: Expr, comprehension: Comprehension): Expr {
    const { iterRange, accuInit, loopCondition, loopStep, result, accuVar } = comprehension;
    if (!iterRange || !accuInit || !loopCondition || !loopStep || !result) return expr;
    const units = BigInt(1 + countNodes(loopCondition) + countNodes(loopStep));
    const value: Comprehension = {
      ...comprehension,
      iterRange: this.#hook(expr, Hook.Range, [this.rewrite(iterRange)]),
      accuInit: this.rewrite(accuInit),
      loopCondition: this.#hook(expr, Hook.Iteration, [this.rewrite(loopCondition), this.#int(expr, units)]),
      loopStep: this.#appendStep(this.rewrite(loopStep), accuVar),
      result: this.rewrite(result),
    };
    return withKind(expr, { case: 'comprehensionExpr', value });
  }

  /** The `map` step `@result + [e]`, or the `filter` step `test ? @result + [e] : @result`. */
  #appendStep(step: Expr, accuVar: string): Expr {
    const append = this.#append(step, accuVar);
    if (append !== undefined) return append;
    if (step.exprKind.case !== 'callExpr' || step.exprKind.value.function !== '_?_:_') return step;
    const [test, ifTrue, ifFalse] = step.exprKind.value.args;
    const appended = ifTrue && this.#append(ifTrue, accuVar);
    if (!test || !ifFalse || appended === undefined) return step;
    return withKind(step, {
      case: 'callExpr',
      value: { ...step.exprKind.value, args: [test, appended, ifFalse] },
    });
  }

  #append(step: Expr, accuVar: string): Expr | undefined {
    if (step.exprKind.case !== 'callExpr') return undefined;
    const { function: name, target, args } = step.exprKind.value;
    const [accumulator, list] = args;
    if (name !== '_+_' || target !== undefined || args.length !== 2 || !isIdent(accumulator, accuVar)) {
      return undefined;
    }
    if (list?.exprKind.case !== 'listExpr' || list.exprKind.value.optionalIndices.length > 0) {
      return undefined;
    }
    const [element, ...more] = list.exprKind.value.elements;
    if (!accumulator || !element || more.length > 0) return undefined;
    return callNode(step.id, Hook.Append, [accumulator, element]);
  }

  #hook(at: Expr, name: Hook, args: Expr[]): Expr {
    return callNode(this.#newId(at), name, args);
  }

  #int(at: Expr, value: bigint): Expr {
    return intNode(this.#newId(at), value);
  }

  /** A fresh id, positioned where `at` is in the source. */
  #newId(at: Expr): bigint {
    const id = this.#nextId++;
    const position = this.positions.get(at.id);
    if (position !== undefined) this.positions.set(id, position);
    return id;
  }
}

function withKind(expr: Expr, exprKind: Expr['exprKind']): Expr {
  return { ...expr, exprKind };
}
