import { describe, expect, it } from 'vitest';
import { prepareBindings, type Bindings } from './bindings.ts';
import { compileExpression } from './compile.ts';
import { evaluate, type EvaluationResult } from './evaluate.ts';
import type { CompiledExpression, Expectation } from './program.ts';

function compiled<E extends Expectation>(
  source: string,
  expect: E,
  variables: readonly string[] = [],
): CompiledExpression<E> {
  const result = compileExpression(source, { variables, expect });
  if (!result.ok) throw new Error(`${source}: ${result.error.message}`);
  return result.program;
}

function paymentRequest(parameters: unknown, action = 'payment'): unknown {
  return {
    apiVersion: 'greenlight.dev/v1alpha1',
    kind: 'ApprovalRequest',
    metadata: { name: 'pay-42', namespace: 'billing', creationTimestamp: '2024-05-01T10:00:00Z' },
    spec: { action, parameters },
    status: { phase: 'Pending' },
  };
}

const NOW = new Date('2024-05-03T12:00:00Z');

function bindings(request: unknown, context: Record<string, unknown> = {}): Bindings {
  return { request, now: NOW, context };
}

function greenSince(time: string): unknown {
  return { metadata: { name: 'staging', annotations: { 'greenlight.dev/green-since': time } } };
}

const paymentBelow500 = compiled(
  "request.spec.action == 'payment' && params.amount < 500 && params.currency == 'USD'",
  'bool',
);
const greenInStaging = compiled(
  "staging != null && now - timestamp(staging.metadata.annotations['greenlight.dev/green-since']) >= duration('24h')",
  'bool',
  ['staging'],
);

describe('evaluate', () => {
  it.each([
    [{ amount: 450, currency: 'USD' }, 'payment', true],
    [{ amount: 450.5, currency: 'USD' }, 'payment', true],
    [{ amount: 499.99, currency: 'USD' }, 'payment', true],
    [{ amount: 500, currency: 'USD' }, 'payment', false],
    [{ amount: 1e21, currency: 'USD' }, 'payment', false],
    [{ amount: 450, currency: 'EUR' }, 'payment', false],
    [{ amount: 450, currency: 'USD' }, 'refund', false],
  ])('decides "payment below $500" for %j (%s)', (parameters, action, decision) => {
    expect(evaluate(paymentBelow500, bindings(paymentRequest(parameters, action)))).toEqual({
      ok: true,
      value: decision,
    });
  });

  it('reports a missing parameter as an error, with its position', () => {
    expect(evaluate(paymentBelow500, bindings(paymentRequest({ currency: 'USD' })))).toEqual({
      ok: false,
      error: { message: 'field not found: amount', line: 1, column: 43 },
    });
  });

  it('reads params as an empty map when the request has no parameters', () => {
    const request = { spec: { action: 'payment' } };
    expect(evaluate(compiled('has(params.amount)', 'bool'), bindings(request))).toEqual({
      ok: true,
      value: false,
    });
    expect(evaluate(compiled('params.missing == 1', 'bool'), bindings(request))).toMatchObject({
      ok: false,
      error: { message: 'field not found: missing' },
    });
  });

  it.each([
    ['2024-05-01T12:00:00Z', true],
    ['2024-05-02T12:00:00Z', true],
    ['2024-05-02T12:00:01Z', false],
    ['2024-05-02T14:00:00+02:00', true],
  ])('decides "green in staging for 24 hours" with green-since %s', (since, decision) => {
    const result = evaluate(greenInStaging, bindings(paymentRequest({}), { staging: greenSince(since) }));
    expect(result).toEqual({ ok: true, value: decision });
  });

  it('binds a missing context object as null', () => {
    expect(evaluate(greenInStaging, bindings(paymentRequest({})))).toEqual({ ok: true, value: false });
    expect(evaluate(greenInStaging, bindings(paymentRequest({}), { staging: null }))).toEqual({
      ok: true,
      value: false,
    });
  });

  it('reports a context object without the annotation', () => {
    const result = evaluate(greenInStaging, bindings(paymentRequest({}), { staging: { metadata: {} } }));
    expect(result).toMatchObject({ ok: false, error: { message: 'field not found: annotations' } });
  });

  it('reports an annotation that is not an RFC 3339 time', () => {
    const result = evaluate(
      greenInStaging,
      bindings(paymentRequest({}), { staging: greenSince('yesterday') }),
    );
    expect(result).toMatchObject({
      ok: false,
      error: { message: expect.stringContaining('timestamp') as unknown },
    });
  });

  it.each([
    ['has(params.missing)', false],
    ['has(params.amount)', true],
    ["'amount' in params", true],
    ['params.amount == 450', true],
    ['params.amount == 450.0', true],
    ['params.ratio == 0.5', true],
    ['params.ratio < 1', true],
    ['params.count + 1 == 4', true],
    ['type(params.count) == int && type(params.ratio) == double', true],
    ['params.tags.exists(t, t == "urgent") && "urgent" in params.tags', true],
    ['params.items.all(i, i.price < 100)', true],
    ['params.items.map(i, i.price).filter(p, p > 10).size() == 1', true],
    ['params.items.exists_one(i, i.sku.startsWith("A-"))', true],
    ['params.items[1].sku.endsWith("-2") && params.items[params.count - 2].price == 20', true],
    ['params.labels.env == "prod" && params.labels["team"].contains("pay")', true],
    ['params.name.matches("^[a-z][a-z0-9-]*$") && size(params.name) == 8', true],
    ['params.name.lowerAscii() == "pay-4242" && params.path.split("/").join(".") == "a.b.c"', true],
    ['params.nothing == null && !has(params.nothing)', true],
    ['now - timestamp(request.metadata.creationTimestamp) > duration("48h")', true],
    ['now.getFullYear() == 2024 && now.getHours("Asia/Tokyo") == 21', true],
    ['timestamp(request.metadata.creationTimestamp) + duration("1h") < now', true],
  ])('evaluates %s', (source, value) => {
    const parameters = {
      amount: 450,
      ratio: 0.5,
      count: 3,
      tags: ['urgent', 'billing'],
      items: [
        { sku: 'A-1', price: 10 },
        { sku: 'B-2', price: 20 },
      ],
      labels: { env: 'prod', team: 'payments' },
      name: 'Pay-4242',
      path: 'a/b/c',
      nothing: null,
    };
    const request = paymentRequest({ ...parameters, name: 'pay-4242' });
    expect(evaluate(compiled(source, 'bool'), bindings(request))).toEqual({ ok: true, value });
  });

  it.each([
    ['[10, 20, 30][params.one] == 20', true],
    ['[10, 20, 30][1u] == 20 && [10, 20, 30][2.0] == 30', true],
    ['{1: "a", 2: "b"}[params.one] == "a" && {1: "a"}[1.0] == "a" && {true: 1}[params.yes] == 1', true],
    ['params.labels[params.key] == "prod"', true],
    ['[1, 2, 3, 4].map(x, x % 2 == 0, x * 10) == [20, 40]', true],
    ['[1, 2, 3].map(x, [x]).map(l, l + l) == [[1, 1], [2, 2], [3, 3]]', true],
    ['[[1, 2], [3]].map(l, l.filter(x, x > 1)) == [[2], [3]]', true],
    ['params.empty.map(x, x) == [] && params.empty.filter(x, true).size() == 0', true],
  ])('indexes and builds lists: %s', (source, value) => {
    const request = paymentRequest({ one: 1, yes: true, key: 'env', labels: { env: 'prod' }, empty: [] });
    expect(evaluate(compiled(source, 'bool'), bindings(request))).toEqual({ ok: true, value });
  });

  it.each([
    ['[10, 20][params.half] == 1', 'a list index must be an int, not double'],
    ['[10, 20][-params.one] == 1', 'index -1 out of bounds [0, 2)'],
    ['{1: "a"}[params.two] == "a"', 'no such key: 2'],
    ['params.labels[params.list] == 1', 'unsupported map key type: list'],
    ['params.key[params.one] == 1', 'no such overload: string[int]'],
  ])('reports a bad computed index in %s', (source, message) => {
    const request = paymentRequest({ one: 1, two: 2, half: 0.5, key: 'env', labels: {}, list: [] });
    expect(evaluate(compiled(source, 'bool'), bindings(request))).toMatchObject({
      ok: false,
      error: { message },
    });
  });

  it('evaluates name expressions to strings', () => {
    const name = compiled(
      "'pay ' + string(params.amount) + ' ' + params.currency + ' to ' + params.to",
      'string',
    );
    const request = paymentRequest({ amount: 450, currency: 'USD', to: 'ACME' });
    expect(evaluate(name, bindings(request))).toEqual({ ok: true, value: 'pay 450 USD to ACME' });
  });

  it.each([
    ['params.amount', 'bool', 'expression returned int, expected bool'],
    ['params.currency', 'bool', 'expression returned string, expected bool'],
    ['params.flag', 'string', 'expression returned bool, expected string'],
    ['params.nothing', 'string', 'expression returned null_type, expected string'],
    ['params.list', 'string', 'expression returned list, expected string'],
  ] as const)('reports %s as the wrong type for a %s expression', (source, expectation, message) => {
    const request = paymentRequest({ amount: 450, currency: 'USD', flag: true, nothing: null, list: [] });
    expect(evaluate(compiled(source, expectation), bindings(request))).toEqual({
      ok: false,
      error: { message },
    });
  });

  it.each([
    ['params.amount + 0.5 > 0', "found no matching overload for '_+_' applied to '(int, double)'"],
    ['params.amount / 0 == 1', 'int divide by zero'],
    ['params.name.matches("(") ', 'error parsing regexp: missing closing ): `(`'],
    ['params.list[5] == 1', 'index 5 out of bounds [0, 1)'],
    ['params.list[params.amount] == 1', 'index 450 out of bounds [0, 1)'],
    ['params.labels[params.name] == 1', 'no such key: x'],
    ['params.amount.size() == 1', "found no matching overload for 'size' applied to 'int.()'"],
  ])('reports the CEL error of %s', (source, message) => {
    const request = paymentRequest({ amount: 450, name: 'x', list: [1], labels: {} });
    expect(evaluate(compiled(source, 'bool'), bindings(request))).toMatchObject({
      ok: false,
      error: { message },
    });
  });

  it('lets a later false operand absorb an error, as CEL does', () => {
    const program = compiled('params.missing > 1 && false', 'bool');
    expect(evaluate(program, bindings(paymentRequest({})))).toEqual({ ok: true, value: false });
  });

  it('evaluates one program many times and one set of prepared bindings for many programs', () => {
    const prepared = prepareBindings(bindings(paymentRequest({ amount: 450, currency: 'USD' })));
    const other = compiled('params.amount > 400', 'bool');
    for (let i = 0; i < 3; i++) {
      expect(evaluate(paymentBelow500, prepared)).toEqual({ ok: true, value: true });
      expect(evaluate(other, prepared)).toEqual({ ok: true, value: true });
    }
    expect(evaluate(paymentBelow500, bindings(paymentRequest({ amount: 900, currency: 'USD' })))).toEqual({
      ok: true,
      value: false,
    });
  });

  it('reads Kubernetes client objects, whose timestamps are Dates', () => {
    const request = { metadata: { creationTimestamp: new Date('2024-05-01T10:00:00Z') }, spec: {} };
    const program = compiled('now - timestamp(request.metadata.creationTimestamp) > duration("1h")', 'bool');
    expect(evaluate(program, bindings(request))).toEqual({ ok: true, value: true });
  });

  it('does not resolve context variables named like Object.prototype members', () => {
    const program = compiled('constructor == null && toString == null', 'bool', ['constructor', 'toString']);
    expect(evaluate(program, bindings(paymentRequest({})))).toEqual({ ok: true, value: true });
  });

  describe('never throws', () => {
    const cyclic: Record<string, unknown> = { spec: { parameters: { amount: 1 } } };
    cyclic['self'] = cyclic;
    let deep: unknown = 1;
    for (let i = 0; i < 200; i++) deep = { next: deep };
    const throwing = {
      get spec(): never {
        throw new Error('boom');
      },
    };
    const programs = [paymentBelow500, greenInStaging, compiled('params.amount == params.amount', 'bool')];

    it.each([
      ['undefined bindings', undefined],
      ['null bindings', null],
      ['a string as bindings', 'bindings'],
      ['no request', { now: NOW, context: {} }],
      ['request undefined', bindings(undefined)],
      ['request null', bindings(null)],
      ['request a number', bindings(42)],
      ['cyclic request', bindings(cyclic)],
      ['request nested 200 deep', bindings({ spec: { parameters: deep } })],
      ['throwing getter', bindings(throwing)],
      ['NaN amount', bindings(paymentRequest({ amount: Number.NaN, currency: 'USD' }))],
      ['Infinity amount', bindings(paymentRequest({ amount: -Infinity, currency: 'USD' }))],
      ['huge amount', bindings(paymentRequest({ amount: 1.7e308, currency: 'USD' }))],
      ['unsafe integer', bindings(paymentRequest({ amount: 2 ** 64, currency: 'USD' }))],
      ['bigint amount', bindings(paymentRequest({ amount: 10n ** 30n, currency: 'USD' }))],
      ['function and symbol values', bindings(paymentRequest({ amount: () => 1, currency: Symbol('USD') }))],
      ['a Map as parameters', bindings(paymentRequest(new Map([['amount', 1]])))],
      ['invalid now', { request: paymentRequest({}), now: new Date(Number.NaN), context: {} }],
      ['now out of range', { request: paymentRequest({}), now: new Date(8.64e15), context: {} }],
      ['now a string', { request: paymentRequest({}), now: '2024-01-01', context: {} }],
      ['context null', { request: paymentRequest({}), now: NOW, context: null }],
      ['context a string', { request: paymentRequest({}), now: NOW, context: 'staging' }],
      ['staging a number', bindings(paymentRequest({}), { staging: 7 })],
      ['staging cyclic', bindings(paymentRequest({}), { staging: cyclic })],
    ])('with %s', (_, odd) => {
      for (const program of programs) {
        const result: EvaluationResult<boolean> = evaluate(program, odd as Bindings);
        expect(typeof result.ok).toBe('boolean');
      }
    });

    it('with something that is not a compiled expression', () => {
      const fake = {
        source: 'true',
        expect: 'bool',
        variables: [],
        references: [],
        parameterComparisons: [],
      } as const;
      expect(evaluate(fake as CompiledExpression<'bool'>, bindings(null))).toEqual({
        ok: false,
        error: { message: 'not a compiled expression' },
      });
    });
  });

  it.each([
    [bindings(null), 'params.a == 1', 'field not found: a'],
    [{ request: {}, now: new Date(Number.NaN), context: {} }, 'now == now', 'now must be a valid Date'],
    [
      bindings({ spec: { parameters: { amount: 10n ** 30n } } }),
      'params.amount > 0',
      'cannot read request at .spec.parameters.amount: 1000000000000000000000000000000 is out of the int64 range',
    ],
  ])('explains unusable bindings (%#)', (odd, source, message) => {
    expect(evaluate(compiled(source, 'bool'), odd)).toMatchObject({ ok: false, error: { message } });
  });
});
