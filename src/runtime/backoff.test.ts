import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF, DEFAULT_BACKOFF_MAX_MS } from './backoff.ts';

const exact = { baseMs: 5, maxMs: 1000, jitter: 0 };

describe('backoffDelay', () => {
  it('doubles from the base with each failure', () => {
    expect([0, 1, 2, 3, 4].map((failures) => backoffDelay(failures, exact))).toEqual([5, 10, 20, 40, 80]);
  });

  it('stops growing at the maximum', () => {
    expect(backoffDelay(7, exact)).toBe(640);
    expect(backoffDelay(8, exact)).toBe(1000);
    expect(backoffDelay(5000, exact)).toBe(1000);
  });

  it('treats a negative or missing failure count as the first failure', () => {
    expect(backoffDelay(-3, exact)).toBe(5);
    expect(backoffDelay(Number.NaN, exact)).toBe(5);
  });

  it('shortens the delay by at most the jitter share, so the maximum stays an upper bound', () => {
    const jittered = { baseMs: 100, maxMs: 1000, jitter: 0.2 };
    expect(backoffDelay(1, jittered, () => 0)).toBe(200);
    expect(backoffDelay(1, jittered, () => 0.5)).toBeCloseTo(180);
    expect(backoffDelay(1, jittered, () => 0.999999)).toBeCloseTo(160);
    expect(backoffDelay(20, jittered, () => 0)).toBe(1000);
    expect(backoffDelay(20, jittered, () => 0.999999)).toBeCloseTo(800);
  });

  it('spreads keys that failed together', () => {
    const delays = new Set(Array.from({ length: 20 }, () => backoffDelay(3, DEFAULT_BACKOFF)));
    expect(delays.size).toBeGreaterThan(1);
    for (const delay of delays) {
      expect(delay).toBeGreaterThan(40 * (1 - DEFAULT_BACKOFF.jitter) - 1e-9);
      expect(delay).toBeLessThanOrEqual(40);
    }
  });

  it('keeps the jitter within 0..1 whatever it is configured to', () => {
    expect(backoffDelay(0, { baseMs: 100, maxMs: 1000, jitter: 3 }, () => 0.5)).toBe(50);
    expect(backoffDelay(0, { baseMs: 100, maxMs: 1000, jitter: -1 }, () => 0.5)).toBe(100);
  });

  it('by default starts at 5 ms and reaches the 5-minute cap on the 17th retry', () => {
    const noJitter = { ...DEFAULT_BACKOFF, jitter: 0 };
    expect(backoffDelay(0, noJitter)).toBe(5);
    expect(backoffDelay(15, noJitter)).toBeLessThan(DEFAULT_BACKOFF_MAX_MS);
    expect(backoffDelay(16, noJitter)).toBe(DEFAULT_BACKOFF_MAX_MS);
  });
});
