import { childrenOf, type Expr } from './syntax.ts';

export interface AstShape {
  readonly nodes: number;
  readonly depth: number;
  /** A node at the greatest depth, to point at when the expression nests too deeply. */
  readonly deepest: Expr;
}

/** Size and depth of a parsed expression, measured without recursion. */
export function measureAst(root: Expr): AstShape {
  let nodes = 0;
  let depth = 0;
  let deepest = root;
  const pending: (readonly [Expr, number])[] = [[root, 1]];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    const [expr, level] = item;
    nodes++;
    if (level > depth) {
      depth = level;
      deepest = expr;
    }
    for (const child of childrenOf(expr)) pending.push([child, level + 1]);
  }
  return { nodes, depth, deepest };
}
