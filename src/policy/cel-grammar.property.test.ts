import fc, { type Arbitrary } from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ApprovalPolicy, ApprovalPolicySpec, Selector } from '../api/v1alpha1/approval-policy.ts';
import type { ApprovalRequest } from '../api/v1alpha1/approval-request.ts';
import { API_VERSION } from '../api/v1alpha1/schema.ts';
import { compileExpression, evaluate } from './cel/index.ts';
import { compilePolicy } from './compile-policy.ts';
import { decide } from './decide.ts';

// Random CEL, well typed by construction, over what a rule sees (params, request, now is left out:
// it is the one input that changes by itself), printed to source and run by the engine; beside it a
// small evaluator written here from the CEL language definition, which the engine's answers must
// match. The engine property test (engine.property.test.ts) feeds fixed expressions and garbage; this
// one covers the space between: every expression the grammar below can build.
//
// The reference follows these rules of CEL: `&&` is false when either side is false and `||` true
// when either side is true, even if the other side is an error (commutative short-circuit); every
// other operator, function and macro is an error when an operand is; reading a missing map key is an
// error, has() and `in` on a map are false for it (and, in this implementation, for a null value);
// int arithmetic outside int64 is an error; size() of a string counts code points; lowerAscii() maps
// A–Z only.

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const NAMESPACE = 'billing';
const CREATED = '2026-03-02T12:00:00Z';
const NOW = new Date(Date.parse(CREATED) + 60_000);

// ---- what a rule reads ----

const STRINGS = [
  'USD',
  'EUR',
  'usd',
  '',
  'prod',
  'Prod-EU',
  'é',
  'e\u0301',
  '\u{1F680}',
  'a b',
  'A-1',
] as const;
const LABEL_KEYS = ['team', 'env', 'tier'] as const;
/** Label values selectors ask for: few, so that selectors select often enough. */
const LABEL_VALUES = ['payments', 'prod', ''] as const;
const ACTIONS = ['payment', 'deploy', 'db-migrate'] as const;
const REQUESTERS = [
  'system:serviceaccount:ci:deployer',
  'alice',
  'oidc:bob@example.com',
  'slack:B0PAYBOT',
  'oidc:\u{1F680}@example.com',
] as const;

/** The request parameters, each with one type; any of them may be absent. */
interface Params {
  readonly amount?: bigint;
  readonly count?: bigint;
  readonly price?: number;
  readonly currency?: string;
  readonly environment?: string;
  readonly urgent?: boolean;
  readonly tags?: readonly string[];
}
type IntParam = 'amount' | 'count';
type StringParam = 'currency' | 'environment';
const INT_PARAMS: readonly IntParam[] = ['amount', 'count'];
const STRING_PARAMS: readonly StringParam[] = ['currency', 'environment'];
const PARAM_NAMES = ['amount', 'count', 'price', 'currency', 'environment', 'urgent', 'tags'] as const;

interface World {
  readonly params: Params;
  readonly action: string;
  readonly requester: string;
  /** Absent: the request names no resource (request.spec.resource is missing). */
  readonly resource: string | undefined;
  /** Absent: the request has no labels at all (metadata.labels is missing). */
  readonly labels: Readonly<Record<string, string>> | undefined;
}

const text: Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...STRINGS) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 6 }) },
);

/** Ints that fit a JSON number exactly, small ones mostly so that comparisons with literals go both ways. */
const intValue: Arbitrary<bigint> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -5, max: 1000 }).map(BigInt) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      0n,
      499n,
      500n,
      501n,
      BigInt(Number.MAX_SAFE_INTEGER),
      -BigInt(Number.MAX_SAFE_INTEGER),
    ),
  },
);

/** Doubles that stay doubles in JSON (an integral number reads as an int). */
const doubleValue: Arbitrary<number> = fc
  .tuple(fc.integer({ min: -1000, max: 1000 }), fc.constantFrom(0.5, 0.25, 0.125, 0.75))
  .map(([whole, fraction]) => whole + fraction);

const world: Arbitrary<World> = fc.record({
  params: fc.record(
    {
      amount: intValue,
      count: intValue,
      price: doubleValue,
      currency: text,
      environment: text,
      urgent: fc.boolean(),
      tags: fc.array(text, { maxLength: 4 }),
    },
    { requiredKeys: [] },
  ),
  action: fc.constantFrom(...ACTIONS),
  requester: fc.constantFrom(...REQUESTERS),
  resource: fc.option(fc.oneof(fc.constantFrom('web', 'invoice/INV-42'), text), { nil: undefined }),
  labels: fc.option(fc.dictionary(fc.constantFrom(...LABEL_KEYS), text, { maxKeys: 3 }), { nil: undefined }),
});

function requestOf(given: World, name = 'request-1'): ApprovalRequest {
  const { amount, count, ...rest } = given.params;
  const parameters: Record<string, unknown> = {
    ...rest,
    ...(amount === undefined ? {} : { amount: Number(amount) }),
    ...(count === undefined ? {} : { count: Number(count) }),
  };
  return {
    apiVersion: API_VERSION,
    kind: 'ApprovalRequest',
    metadata: {
      name,
      namespace: NAMESPACE,
      creationTimestamp: CREATED,
      ...(given.labels === undefined ? {} : { labels: { ...given.labels } }),
    },
    spec: {
      action: given.action,
      requester: given.requester,
      ...(given.resource === undefined ? {} : { resource: given.resource }),
      parameters,
    },
  };
}

// ---- the grammar ----

type CmpOp = '==' | '!=' | '<' | '<=' | '>' | '>=';
type StringMethod = 'startsWith' | 'endsWith' | 'contains';

type BoolExpr =
  | { readonly k: 'bool'; readonly value: boolean }
  | { readonly k: 'urgent' }
  | { readonly k: 'has'; readonly param: (typeof PARAM_NAMES)[number] }
  | { readonly k: 'hasLabel'; readonly key: string }
  | { readonly k: 'not'; readonly operand: BoolExpr }
  | { readonly k: 'and' | 'or'; readonly left: BoolExpr; readonly right: BoolExpr }
  | { readonly k: 'boolIf'; readonly test: BoolExpr; readonly then: BoolExpr; readonly otherwise: BoolExpr }
  | { readonly k: 'intCmp'; readonly op: CmpOp; readonly left: IntExpr; readonly right: IntExpr }
  | { readonly k: 'doubleCmp'; readonly op: CmpOp; readonly left: DoubleExpr; readonly right: DoubleExpr }
  | { readonly k: 'strEq'; readonly op: '==' | '!='; readonly left: StrExpr; readonly right: StrExpr }
  | { readonly k: 'strIn'; readonly needle: StrExpr; readonly list: readonly StrExpr[] }
  | { readonly k: 'intIn'; readonly needle: IntExpr; readonly list: readonly IntExpr[] }
  | { readonly k: 'inTags'; readonly needle: StrExpr }
  | { readonly k: 'tagsExist'; readonly literal: string }
  | { readonly k: 'method'; readonly method: StringMethod; readonly target: StrExpr; readonly arg: StrExpr };

type IntExpr =
  | { readonly k: 'int'; readonly value: bigint }
  | { readonly k: 'intParam'; readonly param: IntParam }
  | { readonly k: 'size'; readonly of: StrExpr }
  | { readonly k: 'tagCount' }
  | { readonly k: 'arith'; readonly op: '+' | '-'; readonly left: IntExpr; readonly right: IntExpr }
  | { readonly k: 'intIf'; readonly test: BoolExpr; readonly then: IntExpr; readonly otherwise: IntExpr };

type DoubleExpr = { readonly k: 'double'; readonly value: number } | { readonly k: 'price' };

type StrExpr =
  | { readonly k: 'str'; readonly value: string }
  | { readonly k: 'strParam'; readonly param: StringParam }
  | { readonly k: 'action' | 'requester' | 'namespace' | 'resource' }
  | { readonly k: 'label'; readonly key: string }
  | { readonly k: 'lower'; readonly of: StrExpr }
  | { readonly k: 'concat'; readonly left: StrExpr; readonly right: StrExpr }
  | { readonly k: 'strIf'; readonly test: BoolExpr; readonly then: StrExpr; readonly otherwise: StrExpr };

const CMP_OPS: readonly CmpOp[] = ['==', '!=', '<', '<=', '>', '>='];
const DEPTH = { depthIdentifier: 'cel', maxDepth: 5 } as const;

const intLiteral: Arbitrary<bigint> = fc.oneof(
  { weight: 6, arbitrary: intValue },
  { weight: 1, arbitrary: fc.constantFrom(INT64_MAX, INT64_MIN + 1n, 2n ** 62n) },
);

const grammar = fc.letrec<{ bool: BoolExpr; int: IntExpr; double: DoubleExpr; str: StrExpr }>((tie) => {
  const bool = tie('bool');
  const int = tie('int');
  const str = tie('str');
  const double = tie('double');
  const list = <T>(element: Arbitrary<T>): Arbitrary<T[]> => fc.array(element, { maxLength: 3 });
  return {
    bool: fc.oneof(
      DEPTH,
      fc.record({ k: fc.constant('bool' as const), value: fc.boolean() }),
      fc.constant({ k: 'urgent' as const }),
      fc.record({ k: fc.constant('has' as const), param: fc.constantFrom(...PARAM_NAMES) }),
      fc.record({ k: fc.constant('hasLabel' as const), key: fc.constantFrom(...LABEL_KEYS) }),
      fc.record({ k: fc.constant('tagsExist' as const), literal: text }),
      fc.record({ k: fc.constant('not' as const), operand: bool }),
      fc.record({ k: fc.constantFrom('and' as const, 'or' as const), left: bool, right: bool }),
      fc.record({ k: fc.constant('boolIf' as const), test: bool, then: bool, otherwise: bool }),
      fc.record({
        k: fc.constant('intCmp' as const),
        op: fc.constantFrom(...CMP_OPS),
        left: int,
        right: int,
      }),
      fc.record({
        k: fc.constant('doubleCmp' as const),
        op: fc.constantFrom(...CMP_OPS),
        left: double,
        right: double,
      }),
      fc.record({
        k: fc.constant('strEq' as const),
        op: fc.constantFrom('==' as const, '!=' as const),
        left: str,
        right: str,
      }),
      fc.record({ k: fc.constant('strIn' as const), needle: str, list: list(str) }),
      fc.record({ k: fc.constant('intIn' as const), needle: int, list: list(int) }),
      fc.record({ k: fc.constant('inTags' as const), needle: str }),
      fc.record({
        k: fc.constant('method' as const),
        method: fc.constantFrom<StringMethod>('startsWith', 'endsWith', 'contains'),
        target: str,
        arg: str,
      }),
    ),
    int: fc.oneof(
      DEPTH,
      fc.record({ k: fc.constant('int' as const), value: intLiteral }),
      fc.record({ k: fc.constant('intParam' as const), param: fc.constantFrom(...INT_PARAMS) }),
      fc.constant({ k: 'tagCount' as const }),
      fc.record({ k: fc.constant('size' as const), of: str }),
      fc.record({
        k: fc.constant('arith' as const),
        op: fc.constantFrom('+' as const, '-' as const),
        left: int,
        right: int,
      }),
      fc.record({ k: fc.constant('intIf' as const), test: bool, then: int, otherwise: int }),
    ),
    double: fc.oneof(
      fc.record({ k: fc.constant('double' as const), value: doubleValue }),
      fc.constant({ k: 'price' as const }),
    ),
    str: fc.oneof(
      DEPTH,
      fc.record({ k: fc.constant('str' as const), value: text }),
      fc.record({ k: fc.constant('strParam' as const), param: fc.constantFrom(...STRING_PARAMS) }),
      fc.constantFrom(
        { k: 'action' as const },
        { k: 'requester' as const },
        { k: 'namespace' as const },
        { k: 'resource' as const },
      ),
      fc.record({ k: fc.constant('label' as const), key: fc.constantFrom(...LABEL_KEYS) }),
      fc.record({ k: fc.constant('lower' as const), of: str }),
      fc.record({ k: fc.constant('concat' as const), left: str, right: str }),
      fc.record({ k: fc.constant('strIf' as const), test: bool, then: str, otherwise: str }),
    ),
  };
});

// ---- printing ----

/** A CEL string literal: JSON's escapes (\" \\ \n \uXXXX …) are CEL's too. */
const quote = (value: string): string => JSON.stringify(value);

function printBool(e: BoolExpr): string {
  switch (e.k) {
    case 'bool':
      return String(e.value);
    case 'urgent':
      return 'params.urgent';
    case 'has':
      return `has(params.${e.param})`;
    case 'hasLabel':
      return `${quote(e.key)} in request.metadata.labels`;
    case 'tagsExist':
      return `params.tags.exists(t, t == ${quote(e.literal)})`;
    case 'not':
      return `!(${printBool(e.operand)})`;
    case 'and':
      return `(${printBool(e.left)}) && (${printBool(e.right)})`;
    case 'or':
      return `(${printBool(e.left)}) || (${printBool(e.right)})`;
    case 'boolIf':
      return `(${printBool(e.test)}) ? (${printBool(e.then)}) : (${printBool(e.otherwise)})`;
    case 'intCmp':
      return `(${printInt(e.left)}) ${e.op} (${printInt(e.right)})`;
    case 'doubleCmp':
      return `(${printDouble(e.left)}) ${e.op} (${printDouble(e.right)})`;
    case 'strEq':
      return `(${printStr(e.left)}) ${e.op} (${printStr(e.right)})`;
    case 'strIn':
      return `(${printStr(e.needle)}) in [${e.list.map(printStr).join(', ')}]`;
    case 'intIn':
      return `(${printInt(e.needle)}) in [${e.list.map(printInt).join(', ')}]`;
    case 'inTags':
      return `(${printStr(e.needle)}) in params.tags`;
    case 'method':
      return `(${printStr(e.target)}).${e.method}(${printStr(e.arg)})`;
  }
}

function printInt(e: IntExpr): string {
  switch (e.k) {
    case 'int':
      return e.value < 0n ? `-${String(-e.value)}` : String(e.value);
    case 'intParam':
      return `params.${e.param}`;
    case 'tagCount':
      return 'size(params.tags)';
    case 'size':
      return `size(${printStr(e.of)})`;
    case 'arith':
      return `(${printInt(e.left)}) ${e.op} (${printInt(e.right)})`;
    case 'intIf':
      return `(${printBool(e.test)}) ? (${printInt(e.then)}) : (${printInt(e.otherwise)})`;
  }
}

function printDouble(e: DoubleExpr): string {
  // Every generated double has a fraction, so String() always writes the `.` CEL needs.
  return e.k === 'price' ? 'params.price' : String(e.value);
}

function printStr(e: StrExpr): string {
  switch (e.k) {
    case 'str':
      return quote(e.value);
    case 'strParam':
      return `params.${e.param}`;
    case 'action':
      return 'request.spec.action';
    case 'requester':
      return 'request.spec.requester';
    case 'namespace':
      return 'request.metadata.namespace';
    case 'resource':
      return 'request.spec.resource';
    case 'label':
      return `request.metadata.labels[${quote(e.key)}]`;
    case 'lower':
      return `(${printStr(e.of)}).lowerAscii()`;
    case 'concat':
      return `(${printStr(e.left)}) + (${printStr(e.right)})`;
    case 'strIf':
      return `(${printBool(e.test)}) ? (${printStr(e.then)}) : (${printStr(e.otherwise)})`;
  }
}

// ---- the reference evaluator ----

/** A CEL error: its message does not matter here, only that there is one. */
const ERROR = Symbol('error');
type Result<T> = T | typeof ERROR;

/** CEL strings are sequences of code points (not UTF-16 units, nor graphemes). */
const codePoints = (value: string): string[] => Array.from(value);

const ok = <T>(value: Result<T>): value is T => value !== ERROR;

function lift<A, B, R>(a: Result<A>, b: Result<B>, f: (a: A, b: B) => Result<R>): Result<R> {
  return ok(a) && ok(b) ? f(a, b) : ERROR;
}

function all<T>(values: readonly Result<T>[]): Result<readonly T[]> {
  return values.every(ok) ? values : ERROR;
}

function compare<T extends bigint | number>(op: CmpOp, a: T, b: T): boolean {
  switch (op) {
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
  }
}

function param<T>(given: World, name: keyof Params): Result<T> {
  const value = given.params[name];
  return value === undefined ? ERROR : (value as T);
}

function evalBool(e: BoolExpr, w: World): Result<boolean> {
  switch (e.k) {
    case 'bool':
      return e.value;
    case 'urgent':
      return param<boolean>(w, 'urgent');
    case 'has':
      return w.params[e.param] !== undefined;
    case 'hasLabel':
      return w.labels === undefined ? ERROR : Object.hasOwn(w.labels, e.key);
    case 'tagsExist': {
      const tags = param<readonly string[]>(w, 'tags');
      return ok(tags) ? tags.includes(e.literal) : ERROR;
    }
    case 'not': {
      const value = evalBool(e.operand, w);
      return ok(value) ? !value : ERROR;
    }
    case 'and': {
      const [a, b] = [evalBool(e.left, w), evalBool(e.right, w)];
      if (a === false || b === false) return false;
      return a === true && b === true ? true : ERROR;
    }
    case 'or': {
      const [a, b] = [evalBool(e.left, w), evalBool(e.right, w)];
      if (a === true || b === true) return true;
      return a === false && b === false ? false : ERROR;
    }
    case 'boolIf': {
      const test = evalBool(e.test, w);
      return ok(test) ? evalBool(test ? e.then : e.otherwise, w) : ERROR;
    }
    case 'intCmp':
      return lift(evalInt(e.left, w), evalInt(e.right, w), (a, b) => compare(e.op, a, b));
    case 'doubleCmp':
      return lift(evalDouble(e.left, w), evalDouble(e.right, w), (a, b) => compare(e.op, a, b));
    case 'strEq':
      return lift(evalStr(e.left, w), evalStr(e.right, w), (a, b) => (a === b) === (e.op === '=='));
    case 'strIn':
      return lift(evalStr(e.needle, w), all(e.list.map((item) => evalStr(item, w))), (a, l) => l.includes(a));
    case 'intIn':
      return lift(evalInt(e.needle, w), all(e.list.map((item) => evalInt(item, w))), (a, l) => l.includes(a));
    case 'inTags':
      return lift(evalStr(e.needle, w), param<readonly string[]>(w, 'tags'), (a, l) => l.includes(a));
    case 'method':
      return lift(evalStr(e.target, w), evalStr(e.arg, w), (a, b) =>
        e.method === 'startsWith' ? a.startsWith(b) : e.method === 'endsWith' ? a.endsWith(b) : a.includes(b),
      );
  }
}

function evalInt(e: IntExpr, w: World): Result<bigint> {
  switch (e.k) {
    case 'int':
      return e.value;
    case 'intParam':
      return param<bigint>(w, e.param);
    case 'tagCount': {
      const tags = param<readonly string[]>(w, 'tags');
      return ok(tags) ? BigInt(tags.length) : ERROR;
    }
    case 'size': {
      const value = evalStr(e.of, w);
      return ok(value) ? BigInt(codePoints(value).length) : ERROR;
    }
    case 'arith':
      return lift(evalInt(e.left, w), evalInt(e.right, w), (a, b) => {
        const sum = e.op === '+' ? a + b : a - b;
        return sum < INT64_MIN || sum > INT64_MAX ? ERROR : sum;
      });
    case 'intIf': {
      const test = evalBool(e.test, w);
      return ok(test) ? evalInt(test ? e.then : e.otherwise, w) : ERROR;
    }
  }
}

function evalDouble(e: DoubleExpr, w: World): Result<number> {
  return e.k === 'price' ? param<number>(w, 'price') : e.value;
}

function evalStr(e: StrExpr, w: World): Result<string> {
  switch (e.k) {
    case 'str':
      return e.value;
    case 'strParam':
      return param<string>(w, e.param);
    case 'action':
      return w.action;
    case 'requester':
      return w.requester;
    case 'namespace':
      return NAMESPACE;
    case 'resource':
      return w.resource ?? ERROR;
    case 'label':
      return w.labels !== undefined && Object.hasOwn(w.labels, e.key) ? (w.labels[e.key] ?? ERROR) : ERROR;
    case 'lower': {
      const value = evalStr(e.of, w);
      return ok(value) ? value.replace(/[A-Z]/g, (letter) => letter.toLowerCase()) : ERROR;
    }
    case 'concat':
      return lift(evalStr(e.left, w), evalStr(e.right, w), (a, b) => a + b);
    case 'strIf': {
      const test = evalBool(e.test, w);
      return ok(test) ? evalStr(test ? e.then : e.otherwise, w) : ERROR;
    }
  }
}

// ---- policies ----

const policy = (name: string, spec: ApprovalPolicySpec): ApprovalPolicy => ({
  apiVersion: API_VERSION,
  kind: 'ApprovalPolicy',
  metadata: { name, namespace: NAMESPACE, generation: 1 },
  spec,
});

function phaseUnder(policies: readonly ApprovalPolicy[], request: ApprovalRequest) {
  return decide({
    request,
    policies: policies.map(compilePolicy),
    lookup: () => null,
    approvals: [],
    now: NOW,
  });
}

const RUNS = 400;

describe('random CEL within the grammar, against a reference evaluator', () => {
  it('compiles every expression the grammar builds, never throwing', () => {
    fc.assert(
      fc.property(grammar.bool, grammar.str, (condition, name) => {
        expect(compileExpression(printBool(condition), { variables: [], expect: 'bool' })).toMatchObject({
          ok: true,
        });
        expect(compileExpression(printStr(name), { variables: [], expect: 'string' })).toMatchObject({
          ok: true,
        });
      }),
      { numRuns: RUNS },
    );
  });

  it('evaluates a bool expression to the reference’s value, or fails where the reference fails', () => {
    fc.assert(
      fc.property(grammar.bool, world, (condition, given) => {
        const source = printBool(condition);
        const compiled = compileExpression(source, { variables: [], expect: 'bool' });
        if (!compiled.ok) throw new Error(`${source}: ${compiled.error.message}`);
        const result = evaluate(compiled.program, { request: requestOf(given), now: NOW, context: {} });
        const expected = evalBool(condition, given);
        expect(result.ok ? result.value : 'error').toBe(ok(expected) ? expected : 'error');
      }),
      { numRuns: RUNS },
    );
  });

  it('evaluates a string expression to the reference’s value, or fails where the reference fails', () => {
    fc.assert(
      fc.property(grammar.str, world, (name, given) => {
        const source = printStr(name);
        const compiled = compileExpression(source, { variables: [], expect: 'string' });
        if (!compiled.ok) throw new Error(`${source}: ${compiled.error.message}`);
        const result = evaluate(compiled.program, { request: requestOf(given), now: NOW, context: {} });
        const expected = evalStr(name, given);
        expect(result.ok ? { value: result.value } : 'error').toEqual(
          ok(expected) ? { value: expected } : 'error',
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('evaluates an int expression to the reference’s value, or fails where the reference fails', () => {
    fc.assert(
      fc.property(grammar.int, world, (number, given) => {
        // Read through string(): an expression's result must be a bool or a string.
        const source = `string(${printInt(number)})`;
        const compiled = compileExpression(source, { variables: [], expect: 'string' });
        if (!compiled.ok) throw new Error(`${source}: ${compiled.error.message}`);
        const result = evaluate(compiled.program, { request: requestOf(given), now: NOW, context: {} });
        const expected = evalInt(number, given);
        expect(result.ok ? { value: result.value } : 'error').toEqual(
          ok(expected) ? { value: String(expected) } : 'error',
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('approves under `when: <expr>` → Approve exactly when the reference is true, never on an error', () => {
    fc.assert(
      fc.property(grammar.bool, world, (condition, given) => {
        const approving = policy('approve-when', {
          rules: [{ name: 'approve', when: printBool(condition), decision: 'Approve' }],
        });
        const resolution = phaseUnder([approving], requestOf(given));
        const expected = evalBool(condition, given);
        expect(resolution.phase).toBe(expected === true ? 'Approved' : 'Denied');
        expect(resolution.evaluations.at(-1)?.result).toBe(
          expected === ERROR ? 'Error' : expected ? 'Approve' : 'Deny',
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('never approves what a Deny rule ahead of an Approve-all rule matches', () => {
    fc.assert(
      fc.property(grammar.bool, world, (condition, given) => {
        const denying = policy('deny-first', {
          rules: [
            { name: 'deny', when: printBool(condition), decision: 'Deny' },
            { name: 'approve-the-rest', decision: 'Approve' },
          ],
        });
        const resolution = phaseUnder([denying], requestOf(given));
        const expected = evalBool(condition, given);
        if (expected !== false) expect(resolution.phase).toBe('Denied');
        else expect(resolution.phase).toBe('Approved');
      }),
      { numRuns: RUNS },
    );
  });
});

// ---- selectors ----

/** A glob matched by backtracking over the characters, independent of the product's regular expression. */
function globMatches(pattern: readonly string[], value: readonly string[]): boolean {
  if (pattern.length === 0) return value.length === 0;
  const [head, ...rest] = pattern;
  if (head === '*')
    return globMatches(rest, value) || (value.length > 0 && globMatches(pattern, value.slice(1)));
  if (value.length === 0) return false;
  return (head === '?' || head === value[0]) && globMatches(rest, value.slice(1));
}

function referenceSelects(selector: Selector, given: World): boolean {
  const labels = given.labels ?? {};
  const label = (key: string): string | undefined => (Object.hasOwn(labels, key) ? labels[key] : undefined);
  const actions = selector.actions ?? [];
  const requesters = selector.requesters ?? [];
  return (
    (actions.length === 0 || actions.includes(given.action)) &&
    (requesters.length === 0 ||
      requesters.some((p) => globMatches(codePoints(p), codePoints(given.requester)))) &&
    Object.entries(selector.matchLabels ?? {}).every(([key, value]) => label(key) === value) &&
    (selector.matchExpressions ?? []).every((requirement) => {
      const value = label(requirement.key);
      const values = requirement.values ?? [];
      switch (requirement.operator) {
        case 'In':
          return value !== undefined && values.includes(value);
        case 'NotIn':
          return value === undefined || !values.includes(value);
        case 'Exists':
          return value !== undefined;
        case 'DoesNotExist':
          return value === undefined;
      }
    })
  );
}

const requesterPattern: Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    ...REQUESTERS,
    '*',
    'system:serviceaccount:*',
    'system:serviceaccount:ci:*',
    'ali?e',
    '*:*',
    '?',
    'slack:*',
    'oidc:?@example.com',
  ),
  fc
    .array(fc.constantFrom('*', '?', 'a', 'l', 'i', 'c', 'e', ':', 's', '.', '(', '[', '\\', '^'), {
      maxLength: 8,
    })
    .map((parts) => parts.join('')),
);

const selector: Arbitrary<Selector> = fc.record(
  {
    actions: fc.array(fc.constantFrom(...ACTIONS, 'other'), { maxLength: 3 }),
    requesters: fc.array(requesterPattern, { maxLength: 3 }),
    matchLabels: fc.dictionary(fc.constantFrom(...LABEL_KEYS), fc.constantFrom(...LABEL_VALUES), {
      maxKeys: 2,
    }),
    matchExpressions: fc.array(
      fc.oneof(
        fc.record({
          key: fc.constantFrom(...LABEL_KEYS),
          operator: fc.constantFrom('In' as const, 'NotIn' as const),
          values: fc.array(fc.constantFrom(...LABEL_VALUES), { minLength: 1, maxLength: 3 }),
        }),
        fc.record({
          key: fc.constantFrom(...LABEL_KEYS),
          operator: fc.constantFrom('Exists' as const, 'DoesNotExist' as const),
        }),
      ),
      { maxLength: 3 },
    ),
  },
  { requiredKeys: [] },
);

/** Labels drawn from the same few values the selectors ask for, so that both outcomes are common. */
const labelledWorld: Arbitrary<World> = fc
  .tuple(
    world,
    fc.dictionary(fc.constantFrom(...LABEL_KEYS), fc.constantFrom(...LABEL_VALUES), { maxKeys: 3 }),
    fc.boolean(),
  )
  .map(([given, labels, unlabelled]) => ({ ...given, labels: unlabelled ? undefined : labels }));

describe('random selectors, against a reference matcher', () => {
  it('applies a policy to exactly the requests its selector selects', () => {
    fc.assert(
      fc.property(selector, labelledWorld, (chosen, given) => {
        const approveAll = policy('approve-selected', {
          selector: chosen,
          rules: [{ name: 'approve', decision: 'Approve' }],
        });
        const resolution = phaseUnder([approveAll], requestOf(given));
        const selected = referenceSelects(chosen, given);
        expect(resolution.selected).toEqual(selected ? ['approve-selected'] : []);
        expect(resolution.phase).toBe(selected ? 'Approved' : 'Denied');
        if (!selected) expect(resolution.decision?.decidedBy).toBe('controller');
      }),
      { numRuns: RUNS },
    );
  });

  it('decides from the selected policies alone, whatever the others say', () => {
    const policies = fc.array(fc.tuple(selector, fc.constantFrom('Approve' as const, 'Deny' as const)), {
      minLength: 1,
      maxLength: 5,
    });
    fc.assert(
      fc.property(policies, labelledWorld, (chosen, given) => {
        const inForce = chosen.map(([picks, decision], index) =>
          policy(`policy-${index}`, { selector: picks, rules: [{ name: 'always', decision }] }),
        );
        const resolution = phaseUnder(inForce, requestOf(given));
        const selected = chosen.filter(([picks]) => referenceSelects(picks, given));
        expect(resolution.selected).toEqual(
          chosen.flatMap(([picks], index) => (referenceSelects(picks, given) ? [`policy-${index}`] : [])),
        );
        const approved = selected.length > 0 && selected.every(([, decision]) => decision === 'Approve');
        expect(resolution.phase).toBe(approved ? 'Approved' : 'Denied');
      }),
      { numRuns: 200 },
    );
  });
});
