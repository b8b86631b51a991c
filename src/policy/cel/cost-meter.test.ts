import { describe, expect, it } from 'vitest';
import { activeMeter, CostMeter, runMetered } from './cost-meter.ts';

describe('CostMeter', () => {
  it('counts units until the limit, then refuses every further charge', () => {
    const meter = new CostMeter(10);
    meter.charge(10, 'a loop');
    expect([meter.spent, meter.remaining, meter.overrun]).toEqual([10, 0, undefined]);
    expect(() => {
      meter.charge(1, 'a loop');
    }).toThrow('cost limit exceeded: more than 10 cost units spent (last in a loop)');
    expect(() => {
      meter.charge(0, 'anything');
    }).toThrow('(last in a loop)');
    expect(meter.overrun).toBe('cost limit exceeded: more than 10 cost units spent (last in a loop)');
  });

  it('keeps the first reason a value was refused', () => {
    const meter = new CostMeter(10);
    expect(() => meter.refuse('a string would be too long')).toThrow(
      'cost limit exceeded: a string would be too long',
    );
    expect(() => {
      meter.charge(1, 'a loop');
    }).toThrow('cost limit exceeded: a string would be too long');
  });
});

describe('runMetered', () => {
  it('makes the meter active for the run only, restoring the outer one after a nested run', () => {
    const outer = new CostMeter(1);
    const inner = new CostMeter(1);
    const seen = runMetered(outer, () => [
      activeMeter(),
      runMetered(inner, () => activeMeter()),
      activeMeter(),
    ]);
    expect(seen).toEqual([outer, inner, outer]);
    expect(() => activeMeter()).toThrow('a metered CEL function was called outside evaluate()');
  });

  it('restores the outer meter when the run throws', () => {
    const outer = new CostMeter(1);
    runMetered(outer, () => {
      expect(() =>
        runMetered(new CostMeter(1), () => {
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(activeMeter()).toBe(outer);
    });
  });
});
