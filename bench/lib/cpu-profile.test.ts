import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { summarizeProfile } from './cpu-profile.ts';

const frame = (functionName: string, url = '', lineNumber = 0) => ({
  functionName,
  url,
  lineNumber,
  scriptId: '0',
  columnNumber: 0,
});

/** A `.cpuprofile` as node --cpu-prof writes it: nodes, then sample ids with their time deltas in µs. */
const PROFILE = {
  startTime: 0,
  endTime: 1_000_000,
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 3, 4, 5, 6, 7, 8] },
    { id: 2, callFrame: frame('(idle)') },
    { id: 3, callFrame: frame('(garbage collector)') },
    { id: 4, callFrame: frame('decide', 'file:///work/main/src/policy/decide.ts', 41) },
    { id: 5, callFrame: frame('parse') },
    { id: 6, callFrame: frame('request', 'file:///work/main/node_modules/undici/lib/dispatcher.js', 9) },
    { id: 7, callFrame: frame('', 'file:///work/main/src/k8s/informer.ts', 99) },
    { id: 8, callFrame: frame('onStreamRead', 'node:internal/stream_base_commons', 160) },
  ],
  samples: [2, 4, 4, 3, 5, 6, 2, 7, 8, 4],
  timeDeltas: [500_000, 100_000, 100_000, 50_000, 20_000, 40_000, 100_000, 10_000, 30_000, 100_000],
};

describe('summarizeProfile', () => {
  const directory = mkdtempSync(join(tmpdir(), 'greenlight-cpu-profile-test-'));
  const file = join(directory, 'run.cpuprofile');
  writeFileSync(file, JSON.stringify(PROFILE));

  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('separates idle from busy time and sums self time per area, largest first', () => {
    const summary = summarizeProfile(file);
    expect(summary.idleMs).toBe(600);
    expect(summary.busyMs).toBe(450);
    expect(summary.areas).toEqual([
      { area: 'Greenlight (src/)', ms: 310, percent: 68.9 },
      { area: 'garbage collection', ms: 50, percent: 11.1 },
      { area: 'undici (HTTP client)', ms: 40, percent: 8.9 },
      { area: 'other node internals', ms: 30, percent: 6.7 },
      { area: 'JSON', ms: 20, percent: 4.4 },
    ]);
  });

  it('ranks the top functions by self time, named with a short path and a 1-based line', () => {
    expect(summarizeProfile(file, 4).functions).toEqual([
      { name: 'decide src/policy/decide.ts:42', ms: 300, percent: 66.7 },
      { name: '(garbage collector)', ms: 50, percent: 11.1 },
      { name: 'request undici/lib/dispatcher.js:10', ms: 40, percent: 8.9 },
      { name: 'onStreamRead node:internal/stream_base_commons:161', ms: 30, percent: 6.7 },
    ]);
    expect(summarizeProfile(file).functions.map((fn) => fn.name)).toContain(
      '(anonymous) src/k8s/informer.ts:100',
    );
  });
});
