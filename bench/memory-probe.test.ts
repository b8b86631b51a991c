import { describe, expect, it } from 'vitest';
import { heapFigures, processMemory } from './memory-probe.ts';

describe('processMemory', () => {
  it('reads RSS, its peak and its file-backed and anonymous parts from /proc/PID/status, in MiB', () => {
    const status = [
      'Name:\tnode',
      'VmHWM:\t  128000 kB',
      'VmRSS:\t  112640 kB',
      'RssAnon:\t   61440 kB',
      'RssFile:\t   51200 kB',
    ].join('\n');
    expect(processMemory(status)).toEqual({ rss: 110, peak: 125, anonymous: 60, file: 50 });
  });
});

describe('heapFigures', () => {
  it('keeps the heap spaces in use and the external memory, in MiB', () => {
    const metrics = [
      'nodejs_heap_space_size_total_bytes{space="new"} 8388608',
      'nodejs_heap_space_size_total_bytes{space="old"} 31457280',
      'nodejs_heap_space_size_total_bytes{space="shared"} 0',
      'nodejs_heap_space_size_used_bytes{space="old"} 1048576',
      'nodejs_external_memory_bytes 9437184',
    ].join('\n');
    expect(heapFigures(metrics)).toEqual({ new: 8, old: 30, external_memory: 9 });
  });
});
