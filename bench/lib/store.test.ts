import { describe, expect, it } from 'vitest';
import {
  fitBudget,
  medianByRss,
  startOrder,
  storedAs,
  storeStartLabel,
  type ControllerStart,
  type StoreSettings,
} from './store.ts';

describe('storedAs', () => {
  it('stores 80 % decided, approved and denied alike, and 20 % escalated, from index 0 on', () => {
    const counts = { approve: 0, deny: 0, escalate: 0 };
    for (let index = 0; index < 10_000; index++) counts[storedAs(index)]++;
    expect(counts).toEqual({ approve: 4_000, deny: 4_000, escalate: 2_000 });
    // objectBytes reads index 0 as the decided sample and index 8 as the escalated one.
    expect([0, 1, 8, 9].map(storedAs)).toEqual(['approve', 'deny', 'escalate', 'escalate']);
  });
});

describe('fitBudget', () => {
  // One controller start is reserved: 15 s settling + 30 s + 100,000 / 4,000 s listing = 70 s.
  const settings: StoreSettings = {
    sizes: [10_000, 100_000],
    concurrency: 48,
    settleMs: 15_000,
    starts: 1,
    budgetMinutes: 20,
    granularity: 10_000,
  };

  it('grows to the asked size before any storing rate is known', () => {
    expect(fitBudget(settings, { asked: 10_000, stored: 0, rate: Number.NaN, secondsLeft: 1 })).toEqual({
      size: 10_000,
    });
  });

  it('grows to the asked size when it fits in the time left', () => {
    expect(fitBudget(settings, { asked: 100_000, stored: 10_000, rate: 500, secondsLeft: 1_000 })).toEqual({
      size: 100_000,
    });
  });

  it('scales down to a multiple of the granularity above what is stored, and says why', () => {
    // (200 − 70) s × 500/s = 65,000 more, rounded down to 60,000.
    const budget = fitBudget(settings, { asked: 100_000, stored: 10_000, rate: 500, secondsLeft: 200 });
    expect(budget.size).toBe(70_000);
    expect(budget.scaledDown).toMatchObject({ asked: 100_000, ran: 70_000 });
    expect(budget.scaledDown?.why).toBe(
      'storing at 500 requests/s, 100,000 would not fit in the 20-minute budget of the memory measurement',
    );
  });

  it('stops growing when not even one more step fits, reporting the size already stored', () => {
    const budget = fitBudget(settings, { asked: 100_000, stored: 10_000, rate: 500, secondsLeft: 50 });
    expect(budget.size).toBeLessThanOrEqual(10_000);
    expect(budget.scaledDown?.ran).toBe(10_000);
  });
});

function start(rssMiB: number, readyMs = 1_000): ControllerStart {
  return {
    late: 10,
    readyMs,
    firstDecisionMs: readyMs + 200,
    lateDecidedMs: readyMs + 400,
    caughtUpMs: readyMs + 900,
    memory: {
      rssBytes: rssMiB * 2 ** 20,
      peakRssBytes: rssMiB * 2 ** 20,
      heapUsedBytes: 2 ** 25,
      heapTotalBytes: 2 ** 26,
    },
    rssMiB,
    peakRssMiB: rssMiB,
    heapUsedMiB: 32,
    idleMillicores: 3,
    startupCpuSeconds: 1.5,
    loadAverage: { before: 0.5, after: 1 },
  };
}

describe('medianByRss', () => {
  it('picks the whole start with the median RSS, whatever the order', () => {
    const starts = [start(152.3, 1_100), start(148.1, 1_200), start(150.2, 1_300)];
    expect(medianByRss(starts)).toBe(starts[2]);
    expect(starts.map((each) => each.rssMiB)).toEqual([152.3, 148.1, 150.2]);
  });

  it('picks the lower of the two middle starts for an even count, and the only one for one', () => {
    const starts = [start(4), start(1), start(3), start(2)];
    expect(medianByRss(starts).rssMiB).toBe(2);
    expect(medianByRss([start(99)]).rssMiB).toBe(99);
  });

  it('refuses when no start was measured', () => {
    expect(() => medianByRss([])).toThrow('no controller start was measured');
  });
});

describe('startOrder and storeStartLabel', () => {
  it('alternates which controller starts first over the store, and runs Greenlight alone without a peer', () => {
    expect([0, 1, 2].map((start) => startOrder(start, true))).toEqual([
      ['greenlight', 'peer'],
      ['peer', 'greenlight'],
      ['greenlight', 'peer'],
    ]);
    expect(startOrder(1, false)).toEqual(['greenlight']);
  });

  it("labels Greenlight's starts as before (their CPU profiles keep their names) and the peer's apart", () => {
    expect(storeStartLabel({ stored: 10_000, start: 2, side: 'greenlight' })).toBe('store-10000-2');
    expect(storeStartLabel({ stored: 10_000, start: 2, side: 'peer' })).toBe('store-peer-10000-2');
  });
});
