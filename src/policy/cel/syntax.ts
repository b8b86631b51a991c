import type { parse } from '@bufbuild/cel';

/** The parsed form of an expression (the cel.expr protobuf messages, as @bufbuild/cel builds them). */
export type ParsedExpression = ReturnType<typeof parse>;
export type Expr = ParsedExpression['expr'];
export type ExprKind = Expr['exprKind'];
export type Call = Extract<ExprKind, { case: 'callExpr' }>['value'];
export type Select = Extract<ExprKind, { case: 'selectExpr' }>['value'];
export type Comprehension = Extract<ExprKind, { case: 'comprehensionExpr' }>['value'];
export type Constant = Extract<ExprKind, { case: 'constExpr' }>['value'];
export type Struct = Extract<ExprKind, { case: 'structExpr' }>['value'];
export type StructEntry = Struct['entries'][number];

/** The direct sub-expressions of a node, in the order the evaluator reaches them. */
export function childrenOf(expr: Expr): readonly Expr[] {
  const kind = expr.exprKind;
  switch (kind.case) {
    case 'selectExpr':
      return present([kind.value.operand]);
    case 'callExpr':
      return present([kind.value.target, ...kind.value.args]);
    case 'listExpr':
      return kind.value.elements;
    case 'structExpr':
      return kind.value.entries.flatMap(entryChildren);
    case 'comprehensionExpr':
      return present(comprehensionParts(kind.value));
    case 'constExpr':
    case 'identExpr':
    case undefined:
      return [];
  }
}

export function comprehensionParts(comprehension: Comprehension): (Expr | undefined)[] {
  const { iterRange, accuInit, loopCondition, loopStep, result } = comprehension;
  return [iterRange, accuInit, loopCondition, loopStep, result];
}

function entryChildren(entry: StructEntry): Expr[] {
  const key = entry.keyKind.case === 'mapKey' ? entry.keyKind.value : undefined;
  return present([key, entry.value]);
}

function present(exprs: readonly (Expr | undefined)[]): Expr[] {
  return exprs.filter((expr) => expr !== undefined);
}

/** Number of nodes in a tree, iteratively (the tree may be deeper than the call stack allows). */
export function countNodes(root: Expr): number {
  let count = 0;
  const pending: Expr[] = [root];
  for (let expr = pending.pop(); expr !== undefined; expr = pending.pop()) {
    count++;
    pending.push(...childrenOf(expr));
  }
  return count;
}

export function callNode(id: bigint, name: string, args: Expr[]): Expr {
  return {
    $typeName: 'cel.expr.Expr',
    id,
    exprKind: { case: 'callExpr', value: { $typeName: 'cel.expr.Expr.Call', function: name, args } },
  };
}

type IntConstant = Extract<Constant['constantKind'], { case: 'int64Value' }>;

export function intNode(id: bigint, value: bigint): Expr {
  const constantKind: IntConstant = { case: 'int64Value', value };
  return {
    $typeName: 'cel.expr.Expr',
    id,
    exprKind: { case: 'constExpr', value: { $typeName: 'cel.expr.Constant', constantKind } },
  };
}

export function isIdent(expr: Expr | undefined, name: string): boolean {
  return expr?.exprKind.case === 'identExpr' && expr.exprKind.value.name === name;
}

export function isStringConstant(expr: Expr | undefined): boolean {
  return expr?.exprKind.case === 'constExpr' && expr.exprKind.value.constantKind.case === 'stringValue';
}
