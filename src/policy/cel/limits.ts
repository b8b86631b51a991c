/**
 * Limits that keep one policy expression from stalling the controller or exhausting its memory.
 * What a cost unit is, and what each operation costs, is in cost-model.ts.
 */

/** Longest accepted expression, in characters. */
export const MAX_SOURCE_LENGTH = 4096;

/** Most nodes in a parsed expression, counting the nodes that macros such as `all` expand to. */
export const MAX_AST_NODES = 1000;

/** Deepest nesting of a parsed expression; also bounds the evaluator's recursion. */
export const MAX_AST_DEPTH = 100;

/** Cost units one evaluation may spend: about 125,000 iterations of a small `all` predicate. */
export const COST_LIMIT = 1_000_000;

/** Longest string (characters) or bytes value an expression may build by concatenation or `join`. */
export const MAX_STRING_LENGTH = 256 * 1024;

/** Longest list an expression may build by concatenation, `map`, `filter` or `split`. */
export const MAX_LIST_LENGTH = 100_000;

/** Deepest nesting of an input JSON document (request or context object). */
export const MAX_INPUT_DEPTH = 100;
