import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { builtinShim } from './bundle.ts';

const nodeRequire = createRequire(import.meta.url);

/** Runs a shim as the CommonJS module esbuild wraps it in; returns its exports. */
function load(specifier: string): unknown {
  const module = { exports: {} as unknown };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the shim is our own generated code
  const run = new Function('module', 'exports', 'require', builtinShim(specifier)) as (
    module: { exports: unknown },
    exports: unknown,
    require: NodeJS.Require,
  ) => void;
  run(module, module.exports, nodeRequire);
  return module.exports;
}

describe('builtinShim', () => {
  it('hands over a plain-object built-in as accessors that read the real export only when used', () => {
    const util = load('node:util') as Record<string, unknown>;
    const descriptor = Object.getOwnPropertyDescriptor(util, 'parseArgs');
    expect(typeof descriptor?.get).toBe('function');
    expect(descriptor).not.toHaveProperty('value');
    const real = nodeRequire('node:util') as Record<string, unknown>;
    expect(util['parseArgs']).toBe(real['parseArgs']);
    expect(util['promisify']).toBe(real['promisify']);
  });

  it('passes a write through to the real module', () => {
    const fs = load('node:fs') as Record<string, unknown>;
    const real = nodeRequire('node:fs') as Record<string, unknown>;
    const original = real['existsSync'];
    try {
      fs['existsSync'] = () => 'replaced';
      expect(real['existsSync']).toBeTypeOf('function');
      expect((real['existsSync'] as () => unknown)()).toBe('replaced');
    } finally {
      real['existsSync'] = original;
    }
  });

  it('hands over a built-in that is a function (EventEmitter) as it is', () => {
    expect(load('node:events')).toBe(nodeRequire('node:events'));
  });
});
