import { celList, celMap, isCelList, isCelMap, type CelValue } from '@bufbuild/cel';
import { describe, expect, it } from 'vitest';
import { celValueFromJson } from './json-value.ts';

/** A CEL value as plain data, to compare with toEqual. */
function plain(value: CelValue): unknown {
  if (isCelList(value)) return [...value].map(plain);
  if (isCelMap(value)) {
    return Object.fromEntries(
      [...value].map(([k, v]) => [typeof k === 'object' ? `${k.value}u` : String(k), plain(v)]),
    );
  }
  return value;
}

function converted(input: unknown): unknown {
  const result = celValueFromJson(input);
  return result.ok ? plain(result.value) : result;
}

describe('celValueFromJson', () => {
  it.each([
    [450, 450n],
    [-3, -3n],
    [0, 0n],
    [450.5, 450.5],
    [1e21, 1e21],
    [2 ** 53, 2 ** 53],
    [Number.MAX_SAFE_INTEGER, BigInt(Number.MAX_SAFE_INTEGER)],
    [Number.NaN, Number.NaN],
    [Infinity, Infinity],
    [12n, 12n],
    ['text', 'text'],
    [true, true],
    [null, null],
    [undefined, null],
  ])('converts %s', (input, output) => {
    expect(converted(input)).toEqual(output);
  });

  it('converts objects to maps and arrays to lists, recursively', () => {
    expect(converted({ a: [1, 2.5, { b: null }], c: { d: 'x' } })).toEqual({
      a: [1n, 2.5, { b: null }],
      c: { d: 'x' },
    });
  });

  it('reads other values the way JSON.stringify writes them', () => {
    const input = {
      at: new Date('2024-05-01T10:00:00Z'),
      never: new Date(Number.NaN),
      skipped: undefined,
      fn: () => 1,
      list: [undefined, () => 1, Symbol('s')],
      custom: { toJSON: () => ({ replaced: 1 }) },
    };
    expect(converted(input)).toEqual({
      at: '2024-05-01T10:00:00.000Z',
      never: null,
      list: [null, null, null],
      custom: { replaced: 1n },
    });
  });

  it('converts an object shared by two fields once, to the same value', () => {
    const shared = { x: 1 };
    const result = celValueFromJson({ a: shared, b: shared });
    expect(result.ok && isCelMap(result.value) && result.value.get('a') === result.value.get('b')).toBe(true);
  });

  it.each([
    [
      (() => {
        const cyclic: Record<string, unknown> = { a: { b: [] } };
        cyclic['a'] = { b: [cyclic] };
        return cyclic;
      })(),
      'cannot read value at .a.b[0]: the value contains itself',
    ],
    [{ n: 2n ** 63n }, 'cannot read value at .n: 9223372036854775808 is out of the int64 range'],
    [
      {
        get boom(): never {
          throw new Error('getter failed');
        },
      },
      'cannot read value: getter failed',
    ],
  ])('fails without throwing on %#', (input, message) => {
    expect(celValueFromJson(input)).toEqual({ ok: false, message });
  });

  it('refuses input nested deeper than the limit, naming a shortened path', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 150; i++) deep = [deep];
    expect(celValueFromJson(deep, 'request')).toEqual({
      ok: false,
      message: 'cannot read request at [0][0][0][0]…[0][0][0]: nested deeper than 100 levels',
    });
  });

  it('returns values the CEL library accepts as they are', () => {
    const result = celValueFromJson({ list: [1] });
    expect(result.ok && plain(result.value)).toEqual(plain(celMap(new Map([['list', celList([1n])]]))));
  });
});
