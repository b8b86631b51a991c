import { describe, expect, it } from 'vitest';
import { prepareBindings } from './bindings.ts';
import { compileExpression } from './compile.ts';
import { evaluate, type EvaluationResult } from './evaluate.ts';
import { MAX_LIST_LENGTH, MAX_STRING_LENGTH } from './limits.ts';

// Generous: an overrun takes a few hundred milliseconds at most on a laptop; this only catches a stall.
const QUICKLY_MS = 3000;

const parameters = {
  thousand: Array.from({ length: 1000 }, (_, i) => i),
  fiftyThousand: Array.from({ length: 50_000 }, (_, i) => i),
  hundredThousand: Array.from({ length: 100_000 }, (_, i) => i),
  long: 'a'.repeat(200_000),
  wide: Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, i])),
  items: Array.from({ length: 200 }, (_, i) => ({ sku: `A-${i}`, price: i, tags: ['x', 'y'] })),
};
// Prepared once, so that the timings below measure evaluation rather than reading the inputs.
const bindings = prepareBindings({
  request: { spec: { action: 'payment', parameters } },
  now: new Date('2024-05-03T12:00:00Z'),
  context: {},
});

function timedEvaluate(source: string): { result: EvaluationResult<boolean>; ms: number } {
  const compiled = compileExpression(source, { variables: [], expect: 'bool' });
  if (!compiled.ok) throw new Error(`${source}: ${compiled.error.message}`);
  const start = performance.now();
  const result = evaluate(compiled.program, bindings);
  return { result, ms: performance.now() - start };
}

const chain = (step: string, times: number): string => step.repeat(times);

describe('the cost limit', () => {
  it.each([
    ['nested all over large lists', 'params.thousand.all(x, params.thousand.all(y, x + y >= 0))'],
    ['three nested loops', 'params.thousand.all(x, params.thousand.all(y, params.thousand.all(z, true)))'],
    ['nested exists that never finds', 'params.thousand.exists(x, params.hundredThousand.exists(y, y < 0))'],
    [
      'map of lists then concatenation',
      'params.thousand.map(x, params.thousand).map(l, l + l + l + l).size() > 0',
    ],
    ['regex with nested quantifiers in a loop', 'params.thousand.all(x, params.long.matches("^(a+)+$"))'],
    ['size of a long string in a loop', 'params.thousand.all(x, size(params.long) > 0)'],
    ['deep equality in a loop', 'params.thousand.all(x, params.hundredThousand == params.hundredThousand)'],
    ['membership in a large list in a loop', 'params.thousand.exists(x, -x - 1 in params.hundredThousand)'],
    ['numeric lookups that scan a wide map', 'params.thousand.all(x, params.wide[x] == 1)'],
    [
      'time-zone conversions in a loop',
      'params.items.all(i, params.items.all(j, now.getHours("America/New_York") >= 0))',
    ],
    [
      'equality of values that share structure (2^40 leaves)',
      `[[0]]${chain('.map(a, [a, a])', 40)} == [[0]]${chain('.map(b, [b, b])', 40)}`,
    ],
  ])('stops %s', (_, source) => {
    const { result, ms } = timedEvaluate(source);
    expect(result).toEqual({
      ok: false,
      error: {
        message: expect.stringMatching(/^cost limit exceeded: more than 1000000 cost units spent/) as unknown,
      },
    });
    expect(ms).toBeLessThan(QUICKLY_MS);
  });

  it.each([
    [
      'chained doubling of a string',
      `['ab']${chain('.map(a, a + a)', 25)}.size() == 1`,
      'a string value would grow to',
    ],
    [
      'a string concatenated with itself',
      'params.long + params.long != ""',
      'a string value would grow to 400000',
    ],
    [
      'a list that outgrows the list limit',
      'params.hundredThousand + [1] != []',
      `a list would grow to 100001 elements, past ${MAX_LIST_LENGTH}`,
    ],
    [
      'split into too many pieces',
      'params.long.split("").size() > 0',
      `split would make 200000 elements, past ${MAX_LIST_LENGTH}`,
    ],
    [
      'a join that is too long',
      'params.fiftyThousand.map(x, "abcdef").join() != ""',
      `a string value would grow to 300000 characters, past ${MAX_STRING_LENGTH}`,
    ],
  ])('refuses to build huge values: %s', (_, source, detail) => {
    const { result, ms } = timedEvaluate(source);
    expect(result).toEqual({
      ok: false,
      error: { message: expect.stringContaining(`cost limit exceeded: ${detail}`) as unknown },
    });
    expect(ms).toBeLessThan(QUICKLY_MS);
  });

  it('still fails when the expression swallows the overrun error', () => {
    const { result } = timedEvaluate('params.thousand.all(x, params.thousand.all(y, true)) || true');
    expect(result).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/^cost limit exceeded/) as unknown },
    });
  });

  it('starts every evaluation with a fresh budget', () => {
    const half = timedEvaluate('params.hundredThousand.all(x, x >= 0)');
    expect(half.result).toEqual({ ok: true, value: true });
    expect(timedEvaluate('params.hundredThousand.all(x, x >= 0)').result).toEqual({ ok: true, value: true });
  });

  it.each([
    ['an all over 100,000 elements', 'params.hundredThousand.all(x, x >= 0)', true],
    ['a map over 50,000 elements', 'params.fiftyThousand.map(x, x * 2).size() == 50000', true],
    ['a filter over 50,000 elements', 'params.fiftyThousand.filter(x, x % 2 == 0).size() == 25000', true],
    ['a nested loop of 200 × 200', 'params.items.all(i, params.items.exists(j, j.price == i.price))', true],
    ['membership in a large list', '99999 in params.hundredThousand', true],
    [
      'string keys in a wide map',
      '"k49999" in params.wide && params.wide["k0"] == 0 && params.wide.k1 == 1',
      true,
    ],
    ['a regex over a long string', 'params.long.matches("^a+$")', true],
    ['equality of structured values', 'params.items.map(i, i.tags) == params.items.map(i, ["x", "y"])', true],
    ['a string built from many parts', 'params.items.map(i, i.sku).join(",").size() > 1000', true],
  ])('leaves ordinary work alone: %s', (_, source, value) => {
    expect(timedEvaluate(source).result).toEqual({ ok: true, value });
  });
});
