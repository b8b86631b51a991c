import { describe, expect, it } from 'vitest';
import { byCodeUnits } from './compare.ts';

describe('byCodeUnits', () => {
  it('orders Kubernetes names as localeCompare does', () => {
    const names = [
      'payments/b',
      'payments-eu/a',
      'a.b',
      'a-b',
      'ab',
      'a',
      'a0',
      'z9',
      'deploy/web.v2',
      'deploy/web',
    ];
    expect([...names].sort(byCodeUnits)).toEqual([...names].sort((a, b) => a.localeCompare(b)));
  });

  it('is a total order: equal only for equal strings', () => {
    expect(byCodeUnits('B', 'a')).toBe(-1);
    expect(byCodeUnits('a', 'B')).toBe(1);
    expect(byCodeUnits('x', 'x')).toBe(0);
    expect(byCodeUnits('e\u0301', '\u00e9')).not.toBe(0);
  });
});
