import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.ts';

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['24h', 86_400_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['1h0m5s', 3_605_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '5', '5d', '-5s', '1.5h', 'h', '24 h', 'forever'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('gives the same answers when asked again, and past the number of durations it remembers', () => {
    const texts = Array.from({ length: 3_000 }, (_, index) => `${index}s`);
    for (const text of texts) parseDuration(text);
    expect(texts.map(parseDuration)).toEqual(texts.map((_, index) => index * 1_000));
    expect([parseDuration('forever'), parseDuration('forever')]).toEqual([undefined, undefined]);
    expect(parseDuration('1h30m')).toBe(5_400_000);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [999, '999ms'],
    [90_000, '1m30s'],
    [86_400_000, '24h'],
    [3_605_000, '1h5s'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
