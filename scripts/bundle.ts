// Bundles the compiled CLI (dist/, from `tsc -p tsconfig.build.json`) into bundle/: what the container
// image runs. One chunk per command, loaded when it runs, with the dependencies' unused code left out:
// @kubernetes/client-node's generated API alone is 12 MB of source, which V8 keeps in the heap once
// loaded; bundled, the controller starts with about 30 MiB less RSS (docs/benchmarks.md).
//
//   node scripts/bundle.ts [--from dist] [--out bundle]
import { rm } from 'node:fs/promises';
import { builtinModules, createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build, type Plugin } from 'esbuild';

const root = resolve(fileURLToPath(import.meta.url), '..', '..');
const nodeRequire = createRequire(import.meta.url);

// CommonJS dependencies inside an ES module bundle still call require() for Node's built-ins, and a
// few read __dirname; ES modules have neither.
const BANNER = [
  "import { createRequire as __greenlightCreateRequire } from 'node:module';",
  "import { fileURLToPath as __greenlightFileURLToPath } from 'node:url';",
  "import { dirname as __greenlightDirname } from 'node:path';",
  'const require = __greenlightCreateRequire(import.meta.url);',
  'const __filename = __greenlightFileURLToPath(import.meta.url);',
  'const __dirname = __greenlightDirname(__filename);',
].join('\n');

/**
 * Node's built-in modules, imported with require() wherever the code has an ES module import of one
 * (`import { readFileSync } from 'node:fs'` becomes a property read of `require('node:fs')` where the
 * name is used). An ES module import of a built-in builds the module's namespace from every export,
 * reading each one, and some exports are getters that load a great deal: node:http's `WebSocket`
 * loads Node's bundled undici with HTTP/2, zlib, worker_threads and web streams, node:fs's `promises`
 * loads readline, node:util's exports load assert and worker_threads. The controller uses none of
 * it; as ES module imports its built-ins took about 12 MiB of RSS more (docs/benchmarks.md, F12).
 *
 * Nor may esbuild's CommonJS interop (`__toESM`) touch them: it copies a module's exports by asking
 * for each one's property descriptor, and for node:util that alone loads them (Node materializes a
 * lazy export when its descriptor is read) — worker_threads, util.diff and more, about 0.8 MiB
 * (docs/benchmarks.md, F15). So a built-in whose exports are a plain object is handed over as an
 * object of accessors, one per export (the names read here, at build time, from the same Node major
 * as the image's), each reading the real export only when the code does.
 */
const requireBuiltins: Plugin = {
  name: 'require-node-builtins',
  setup(build) {
    const builtins = new Set(builtinModules);
    build.onResolve({ filter: /^(node:)?[a-z0-9_/]+$/ }, (args) => {
      if (args.kind !== 'import-statement') return undefined;
      if (!args.path.startsWith('node:') && !builtins.has(args.path)) return undefined;
      return { path: args.path, namespace: 'node-builtin' };
    });
    build.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => ({
      contents: builtinShim(args.path),
      loader: 'js',
    }));
  },
};

/** The CommonJS module that stands for the built-in `specifier` in the bundle. */
export function builtinShim(specifier: string): string {
  const required = `require(${JSON.stringify(specifier)})`;
  const exports: unknown = nodeRequire(specifier);
  // A function (node:events' EventEmitter, node:assert) is itself the default export: handed over as is.
  if (typeof exports !== 'object' || exports === null) return `module.exports = ${required};`;
  const names = Object.keys(Object.getOwnPropertyDescriptors(exports)).filter((name) => name !== 'default');
  return [
    `var m = ${required};`,
    `for (const name of ${JSON.stringify(names)})`,
    '  Object.defineProperty(exports, name, {',
    '    enumerable: true,',
    '    get: () => m[name],',
    '    set: (value) => { m[name] = value; },',
    '  });',
  ].join('\n');
}

export interface BundleOptions {
  /** The compiled package (tsc's outDir). */
  readonly from: string;
  /** Where the bundle goes; emptied first. Its entry point is `main.mjs`. */
  readonly out: string;
}

/** Bundles `from/src/cli/main.js`; resolves to the bundle's entry point. */
export async function bundle({ from, out }: BundleOptions): Promise<string> {
  await rm(out, { recursive: true, force: true });
  await build({
    entryPoints: { main: join(from, 'src', 'cli', 'main.js') },
    outdir: out,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    // The package's own node_modules, also when `from` is a staging folder elsewhere.
    nodePaths: [join(root, 'node_modules')],
    banner: { js: BANNER },
    chunkNames: 'chunks/[name]-[hash]',
    // .mjs: ES modules wherever the bundle is copied, whatever package.json is (or is not) above it.
    outExtension: { '.js': '.mjs' },
    // V8 keeps every loaded module's source text in the heap, for lazy compilation; a single non-ASCII
    // character in a comment makes it keep a chunk as two-byte text. Without whitespace and comments
    // (and with esbuild's ASCII escapes in strings) the controller's sources took about 10 MiB less
    // (docs/benchmarks.md, F11). Names are kept, so stack traces still name every function.
    minifyWhitespace: true,
    charset: 'ascii',
    keepNames: true,
    legalComments: 'linked',
    logLevel: 'warning',
    plugins: [requireBuiltins],
  });
  return join(out, 'main.mjs');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { from: { type: 'string', default: 'dist' }, out: { type: 'string', default: 'bundle' } },
  });
  const entry = await bundle({ from: resolve(root, values.from), out: resolve(root, values.out) });
  console.log(`wrote ${entry}`);
}
