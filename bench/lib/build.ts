/**
 * The controller as the container image runs it: compiled and bundled (`npm run build`), here into a
 * temporary folder outside the working tree, next to a copy of package.json (the package root the code
 * looks for). The bundle needs no node_modules.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { bundle } from '../../scripts/bundle.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Compiles src/ with tsconfig.build.json into `directory`/dist and bundles it into `directory`/bundle
 * (scripts/bundle.ts, as the Dockerfile does); returns the bundle's entry point.
 */
export async function buildController(directory: string, progress: (line: string) => void): Promise<string> {
  mkdirSync(directory, { recursive: true });
  copyFileSync(join(ROOT, 'package.json'), join(directory, 'package.json'));
  const dist = join(directory, 'dist');
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const args = [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', dist, '--sourceMap', 'false'];
  try {
    await promisify(execFile)(process.execPath, args, { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    // tsc emits despite type errors (someone else's work in progress); only a missing output is fatal.
    const stdout = (error as { stdout?: unknown }).stdout;
    progress(
      `tsc reported problems (the build is used anyway):\n${typeof stdout === 'string' ? stdout.slice(0, 2000) : ''}`,
    );
  }
  const compiled = join(dist, 'src', 'cli', 'main.js');
  if (!existsSync(compiled)) throw new Error(`the build produced no ${compiled}`);
  return bundle({ from: dist, out: join(directory, 'bundle') });
}

/** The TypeScript sources, run directly (as in development and the tests). */
export const SOURCE_ENTRY = join(ROOT, 'src', 'cli', 'main.ts');

/**
 * The NODE_OPTIONS the image sets (the Dockerfile's `ENV … NODE_OPTIONS=…`), read from the Dockerfile
 * so that the benchmark runs the controller with what the container runs it with.
 */
export function imageNodeOptions(dockerfile = join(ROOT, 'Dockerfile')): string {
  // One instruction per line once continuations are joined; the last ENV that sets it wins (run stage).
  const instructions = readFileSync(dockerfile, 'utf8')
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/);
  let value: string | undefined;
  for (const instruction of instructions) {
    if (!/^\s*ENV\s/i.test(instruction)) continue;
    const match = /(?:^|\s)NODE_OPTIONS=(?:"([^"]*)"|'([^']*)'|(\S*))/.exec(instruction);
    if (match) value = match[1] ?? match[2] ?? match[3] ?? '';
  }
  if (value === undefined) throw new Error(`${dockerfile} sets no NODE_OPTIONS in an ENV instruction`);
  return value;
}
