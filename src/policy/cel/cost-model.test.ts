import { celList, celMap } from '@bufbuild/cel';
import { describe, expect, it } from 'vitest';
import { deepUnits, readUnits, regexUnits, textUnits } from './cost-model.ts';

describe('deepUnits', () => {
  it.each([
    ['an int', 5n, 0],
    ['a short string', 'abc', 1],
    ['a 32-character string', 'a'.repeat(32), 2],
    ['a list of ints', celList([1n, 2n, 3n]), 3],
    ['a map with string keys', celMap(new Map([['key', 'value']])), 3],
    ['nested lists', celList([celList([1n, 2n]), celList([3n])]), 5],
    [
      'a map with int keys, which may be scanned per key',
      celMap(
        new Map([
          [1n, 'a'],
          [2n, 'b'],
        ]),
      ),
      2 + 2 + 2 * 2,
    ],
  ])('counts every element and character of %s', (_, value, units) => {
    expect(deepUnits(value, Infinity)).toBe(units);
  });

  it('counts a shared sub-list once per path and stops past the limit', () => {
    let shared = celList([0n]);
    for (let i = 0; i < 60; i++) shared = celList([shared, shared]);
    const units = deepUnits(shared, 1000);
    expect(units).toBeGreaterThan(1000);
    expect(units).toBeLessThan(1100);
  });
});

describe('the other cost functions', () => {
  it('charges reads of strings and bytes only', () => {
    expect(readUnits(['a'.repeat(17), new Uint8Array(16), 3n, celList([1n])])).toBe(3);
  });

  it('rounds text up to whole units', () => {
    expect([textUnits(0), textUnits(1), textUnits(16), textUnits(17), textUnits(3, 2)]).toEqual([
      0, 1, 1, 2, 2,
    ]);
  });

  it('charges a regex for compiling its pattern and for text × pattern', () => {
    expect(regexUnits('', '')).toBe(1);
    expect(regexUnits('aaa', 'a+')).toBe(2 * 16 + 6);
  });
});
