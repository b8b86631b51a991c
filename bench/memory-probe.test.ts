import { describe, expect, it } from 'vitest';
import { heapFigures, median, parseVariant, processMemory, variantEnv } from './memory-probe.ts';

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

describe('parseVariant', () => {
  it('splits a variant into its label, environment variables, node flags and entry point', () => {
    expect(
      parseVariant(
        'opt2: --max-opt=2 MALLOC_ARENA_MAX=1 !MALLOC_TRIM_THRESHOLD_ --no-sparkplug entry=/tmp/base/bundle/main.mjs',
      ),
    ).toEqual({
      label: 'opt2',
      env: { MALLOC_ARENA_MAX: '1' },
      unset: ['MALLOC_TRIM_THRESHOLD_'],
      nodeFlags: ['--max-opt=2', '--no-sparkplug'],
      entry: '/tmp/base/bundle/main.mjs',
    });
  });

  it('takes a bare label as the image as it is', () => {
    expect(parseVariant('image')).toEqual({ label: 'image', env: {}, unset: [], nodeFlags: [] });
  });

  it("adds a variant's variables to the image's, replaces them, and leaves out the ones it names", () => {
    const image = { NODE_ENV: 'production', MALLOC_ARENA_MAX: '2', MALLOC_TRIM_THRESHOLD_: '131072' };
    expect(variantEnv(image, parseVariant('v: MALLOC_ARENA_MAX=1 !MALLOC_TRIM_THRESHOLD_ FOO=bar'))).toEqual({
      NODE_ENV: 'production',
      MALLOC_ARENA_MAX: '1',
      FOO: 'bar',
    });
    expect(image.MALLOC_TRIM_THRESHOLD_).toBe('131072');
  });

  it('refuses what is neither a variable, an entry point nor a flag, and a label with spaces', () => {
    expect(() => parseVariant('x: max-opt=2')).toThrow(/neither/);
    expect(() => parseVariant('x: !lower')).toThrow(/neither/);
    expect(() => parseVariant('two words: --max-opt=2')).toThrow(/label/);
  });
});

describe('median', () => {
  it('is the middle value, or the mean of the two middle ones, ignoring what is not a number', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([Number.NaN, 5])).toBe(5);
    expect(median([])).toBeNaN();
  });
});
