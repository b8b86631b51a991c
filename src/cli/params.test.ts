import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.ts';
import { parseParams } from './params.ts';

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
