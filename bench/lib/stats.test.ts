import { describe, expect, it } from 'vitest';
import {
  formatInteger,
  formatOne,
  formatRatio,
  markdownTable,
  MiB,
  percentile,
  round,
  summarize,
} from './stats.ts';

describe('percentile', () => {
  it('takes the nearest rank of unsorted values without reordering them', () => {
    const values = [40, 15, 50, 35, 20];
    expect(percentile(values, 0.3)).toBe(20);
    expect(percentile(values, 0.4)).toBe(20);
    expect(percentile(values, 0.5)).toBe(35);
    expect(percentile(values, 1)).toBe(50);
    expect(percentile(values, 0)).toBe(15);
    expect(values).toEqual([40, 15, 50, 35, 20]);
  });

  it('is NaN for no values', () => {
    expect(percentile([], 0.5)).toBeNaN();
  });
});

describe('summarize', () => {
  it('gives the count, p50/p95/p99 and max rounded to a tenth, and NaN (not 0) for no values', () => {
    const latencies = Array.from({ length: 100 }, (_, index) => 100 - index + 0.04);
    expect(summarize(latencies)).toEqual({ count: 100, p50Ms: 50, p95Ms: 95, p99Ms: 99, maxMs: 100 });
    expect(summarize([])).toEqual({
      count: 0,
      p50Ms: Number.NaN,
      p95Ms: Number.NaN,
      p99Ms: Number.NaN,
      maxMs: Number.NaN,
    });
  });
});

describe('number helpers', () => {
  it('converts bytes to MiB and rounds to the asked digits', () => {
    expect(MiB(150 * 2 ** 20 + 0.26 * 2 ** 20)).toBe(150.3);
    expect(round(2.345678, 2)).toBe(2.35);
    expect(round(12.34)).toBe(12.3);
  });

  it('formats with thousands separators and fixed decimals, and a dash for what is not finite', () => {
    expect(formatInteger(100_000)).toBe('100,000');
    expect(formatOne(1234.56)).toBe('1,234.6');
    expect(formatOne(3)).toBe('3.0');
    expect(formatRatio(0.8095)).toBe('0.81×');
    expect(formatRatio(2)).toBe('2.00×');
    for (const format of [formatInteger, formatOne, formatRatio]) {
      expect(format(Number.NaN)).toBe('–');
      expect(format(Number.POSITIVE_INFINITY)).toBe('–');
    }
  });
});

describe('markdownTable', () => {
  it('pads the first column to the left and the others to the right, with a matching rule', () => {
    expect(
      markdownTable(
        ['run', 'decisions/s'],
        [
          ['throughput-ceiling', '105.0'],
          ['burst', '9.5'],
        ],
      ),
    ).toBe(
      [
        '| run                | decisions/s |',
        '| ------------------ | ----------: |',
        '| throughput-ceiling |       105.0 |',
        '| burst              |         9.5 |',
      ].join('\n'),
    );
  });

  it('keeps a hyphen in the rule of a column whose title and cells are all empty', () => {
    expect(markdownTable(['measurement', ''], [['7. Policy engine', '']])).toBe(
      ['| measurement      |    |', '| ---------------- | -: |', '| 7. Policy engine |    |'].join('\n'),
    );
    expect(markdownTable(['measurement', ''], [])).toBe(
      ['| measurement |    |', '| ----------- | -: |'].join('\n'),
    );
  });
});
