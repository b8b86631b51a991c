import { describe, expect, it } from 'vitest';
import { evaluatedAfter } from './prometheus.ts';

describe('evaluatedAfter', () => {
  const scrapedAt = Date.parse('2026-12-06T20:00:00.000Z');

  it('holds once every rule was evaluated after the scrape', () => {
    const rules = [
      { lastEvaluation: '2026-12-06T20:00:00.400Z' },
      { lastEvaluation: '2026-12-06T20:00:01.100Z' },
    ];
    expect(evaluatedAfter(rules, scrapedAt)).toBe(true);
  });

  it('does not hold while one rule was last evaluated before the scrape, or never', () => {
    expect(
      evaluatedAfter(
        [{ lastEvaluation: '2026-12-06T20:00:00.400Z' }, { lastEvaluation: '2026-12-06T19:59:59.900Z' }],
        scrapedAt,
      ),
    ).toBe(false);
    expect(evaluatedAfter([{ lastEvaluation: '0001-01-01T00:00:00Z' }], scrapedAt)).toBe(false);
  });
});
