import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.ts';
import { describeParams, parseParams } from './params.ts';

describe('parseParams', () => {
  it('types numbers, booleans and null, and keeps the rest as strings', () => {
    expect(
      parseParams(['amount=450', 'ratio=0.5', 'urgent=true', 'note=null', 'version=v2.4.1', 'code=007']),
    ).toEqual({
      amount: 450,
      ratio: 0.5,
      urgent: true,
      note: null,
      version: 'v2.4.1',
      code: '007',
    });
  });

  it('reads booleans and null as YAML 1.2 core scalars do, and keeps YAML 1.1 words as strings', () => {
    expect(parseParams(['a=True', 'b=FALSE', 'c=~', 'd=Null', 'e=yes', 'f=off', 'g=tRUE'])).toEqual({
      a: true,
      b: false,
      c: null,
      d: null,
      e: 'yes',
      f: 'off',
      g: 'tRUE',
    });
  });

  it('describes the typed parameters, and warns about strings that read like booleans elsewhere', () => {
    expect(
      describeParams({ amount: 450, reversible: 'yes', meta: { dry: false, tags: ['a'] }, note: null }),
    ).toEqual([
      'amount = 450 (number)',
      'reversible = "yes" (string) — a string, not a boolean: write reversible=true or reversible=false for one',
      'meta.dry = false (bool)',
      'meta.tags = ["a"] (list)',
      'note = null (null)',
    ]);
  });

  it('takes raw JSON after := and builds nested objects from dotted keys', () => {
    expect(parseParams(['rollout.waves:=[10,50,100]', 'rollout.region=eu', 'meta:={"a":1}'])).toEqual({
      rollout: { waves: [10, 50, 100], region: 'eu' },
      meta: { a: 1 },
    });
  });

  it('keeps an equals sign inside a value', () => {
    expect(parseParams(['query=a=b'])).toEqual({ query: 'a=b' });
  });

  it('overrides values from a params file', () => {
    expect(parseParams(['amount=5'], { amount: 1, currency: 'USD' })).toEqual({ amount: 5, currency: 'USD' });
  });

  it.each(['amount', '=5', 'x:=not-json'])('refuses %j with a usage error', (entry) => {
    expect(() => parseParams([entry])).toThrow(UsageError);
  });
});
