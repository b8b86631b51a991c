import { describe, expect, it } from 'vitest';
import { compileExpression, type CompileResult } from './compile.ts';
import { MAX_AST_DEPTH, MAX_SOURCE_LENGTH } from './limits.ts';
import type { Expectation } from './program.ts';

function errorOf<E extends Expectation>(result: CompileResult<E>): unknown {
  return result.ok ? 'compiled' : result.error;
}

function compileBool(source: string, variables: readonly string[] = []): CompileResult<'bool'> {
  return compileExpression(source, { variables, expect: 'bool' });
}

describe('compileExpression', () => {
  it.each([
    ["request.spec.action == 'payment' && params.amount < 500 && params.currency == 'USD'", []],
    [
      "staging != null && now - timestamp(staging.metadata.annotations['greenlight.dev/green-since']) >= duration('24h')",
      ['staging'],
    ],
    ['has(params.amount) && params.amount < 500', []],
    ['params.items.all(item, item.price < 100 && item.sku.startsWith("A-"))', []],
    ['params.items.map(item, item.price).exists(price, price > 1000)', []],
    [
      'params.tags.exists_one(tag, tag == "urgent") || params.tags.filter(t, t.matches("^p[0-9]$")).size() > 2',
      [],
    ],
    ["type(params.amount) == int && 'x' in params.list && size(params.name) <= 63", []],
    ["params.currency.lowerAscii() == 'usd' && params.path.split('/').size() == 3", []],
    ['now.getDayOfWeek() != 0 && now.getHours("Europe/Paris") >= 9', []],
  ] as const)('compiles %s', (source, variables) => {
    expect(compileBool(source, variables).ok).toBe(true);
  });

  it('compiles name expressions that must yield a string', () => {
    const result = compileExpression("'pay ' + string(params.amount) + ' ' + params.currency", {
      variables: [],
      expect: 'string',
    });
    expect(result.ok).toBe(true);
  });

  it('lists the variables an expression reads, and only those', () => {
    const result = compileBool('staging != null && now > timestamp(params.since)', ['staging', 'prod']);
    expect(result.ok && [...result.program.references].sort()).toEqual(['now', 'params', 'staging']);
    expect(result.ok && result.program.variables).toEqual(['staging', 'prod']);
  });

  it.each([
    ['parms.amount < 500', "undeclared reference to 'parms' (did you mean 'params'?)", 1, 1],
    [
      "request.spec.action == 'payment' &&\n  params.amount < 500 &&\n  stagng != null",
      "undeclared reference to 'stagng' (did you mean 'staging'?)",
      3,
      3,
    ],
    ['params.amount < limit', "undeclared reference to 'limit'", 1, 17],
    ['params.items.all(item, item.price > 0) && item.price < 5', "undeclared reference to 'item'", 1, 43],
    ['params.items.map(i, i.price).exists(p, p > i)', "undeclared reference to 'i'", 1, 44],
    ['\r\n  amount > 1', "undeclared reference to 'amount'", 2, 3],
  ])('reports the undeclared identifier in %j', (source, message, line, column) => {
    expect(errorOf(compileBool(source, ['staging']))).toEqual({ message, line, column });
  });

  it.each([
    ['params.amount <', 'found < but expecting end of input', 1, 15],
    ["params.amount < 500 &&\n  params.currency = 'USD'", 'found = but expecting end of input', 2, 19],
    ["params.amount < 500 &&\n  (params.currency == 'USD'", 'found & but expecting end of input', 1, 21],
    ['"unterminated', 'found " but expecting', 1, 1],
  ])('reports syntax errors where the parser does: %j', (source, message, line, column) => {
    const error = errorOf(compileBool(source));
    expect(error).toMatchObject({ line, column });
    expect(error).toHaveProperty('message', expect.stringContaining(message));
  });

  it.each([
    ['nope(1)', "undeclared function 'nope'", 1],
    ['params.name.replace("a", "b") == ""', "undeclared function 'replace'", 12],
    ['size(params.a, params.b) == 1', "'size' takes 1 argument(s), not 2", 1],
    ['startsWith(params.name, "a")', "'startsWith' is a method: call it as value.startsWith(…)", 1],
    ['has(params)', 'has() takes a field selection, as in has(params.amount)', 1],
    [
      'params.items.all(1, true)',
      "'all' is a macro: call it on a list or map with a variable name first, as in items.all(x, …)",
      13,
    ],
    [
      "now > '2024-01-01T00:00:00Z'",
      "no matching overload for operator '>' applied to (google.protobuf.Timestamp, string)",
      5,
    ],
    [
      "now - '1h' < now",
      "no matching overload for operator '-' applied to (google.protobuf.Timestamp, string)",
      5,
    ],
    ['size(1) == 1', "no matching overload for 'size' applied to (int)", 1],
    ['1 && params.ok', "operator '&&' needs bool operands, not int", 1],
    ["'abc'.length == 3", "cannot select field 'length' on type string", 6],
    ["'abc'[0] == 'a'", 'cannot index type string', 6],
    ["[1, 2]['a'] == 1", 'a list index must be an int, not string', 7],
    ['{[1]: 2}.size() == 1', 'unsupported map key type: list', 2],
    ['params.count.all(x, x > 0) && 5.all(x, true)', 'cannot iterate over type int', 32],
    [
      'google.protobuf.Timestamp{seconds: 1} == now',
      'creating messages (google.protobuf.Timestamp{…}) is not supported',
      1,
    ],
  ])('rejects %j', (source, message, column) => {
    expect(errorOf(compileBool(source))).toEqual({ message, line: 1, column });
  });

  it.each([
    ["'approved'", 'bool', 'the expression returns string, expected bool'],
    ['params.amount < 500 ? 1 : 2', 'bool', 'the expression returns int, expected bool'],
    ['params.items.map(x, x)', 'bool', 'the expression returns list, expected bool'],
    ['params.amount > 1', 'string', 'the expression returns bool, expected string'],
    [
      "now - timestamp('2024-01-01T00:00:00Z')",
      'string',
      'the expression returns google.protobuf.Duration, expected string',
    ],
  ] as const)('rejects %j when it cannot yield a %s', (source, expectation, message) => {
    const result = compileExpression(source, { variables: [], expect: expectation });
    expect(errorOf(result)).toMatchObject({ message });
  });

  it('leaves dynamically typed results to evaluation', () => {
    expect(compileBool('params.approved').ok).toBe(true);
    expect(compileExpression('params.name', { variables: [], expect: 'string' }).ok).toBe(true);
  });

  it.each([
    ['', 'the expression is empty', 1, 1],
    [' \n\t ', 'the expression is empty', 1, 1],
    [
      `${'1 + '.repeat(1100)}1 > 0`,
      `the expression is longer than ${MAX_SOURCE_LENGTH} characters`,
      1,
      MAX_SOURCE_LENGTH + 1,
    ],
    [
      `[${'1,'.repeat(1500)}1] == []`,
      'the expression has 1504 nodes once macros are expanded, more than 1000',
      1,
      1,
    ],
    [
      `${'['.repeat(120)}1${']'.repeat(120)} == []`,
      `the expression nests deeper than ${MAX_AST_DEPTH} levels`,
      1,
      121,
    ],
    [`${'('.repeat(1500)}1${')'.repeat(1500)} == 1`, 'the expression nests too deeply to parse', 1, 1],
  ])('enforces size limits on %#', (source, message, line, column) => {
    const error = errorOf(compileBool(source));
    expect(error).toEqual({ message, line, column });
  });

  it.each([
    [
      ['x-y'],
      "invalid context variable name: 'x-y' is not a CEL identifier (letters, digits and _, not starting with a digit)",
    ],
    [['now'], "invalid context variable name: 'now' is a built-in variable"],
    [['in'], "invalid context variable name: 'in' is a reserved word in CEL"],
    [['int'], "invalid context variable name: 'int' would hide the CEL type of that name"],
    [['prod', 'prod'], "context variable 'prod' is declared twice"],
  ])('rejects the context variables %j', (variables, message) => {
    expect(errorOf(compileBool('true', variables))).toEqual({ message, line: 1, column: 1 });
  });
});
