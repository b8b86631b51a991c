/**
 * The controller as the container image runs it: compiled to JavaScript (`npm run build`), here into a
 * temporary folder outside the working tree, next to a link to node_modules and a copy of package.json
 * (the package root the code looks for).
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Compiles src/ with tsconfig.build.json into `directory`; returns the CLI's entry point. */
export async function buildController(directory: string, progress: (line: string) => void): Promise<string> {
  mkdirSync(directory, { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(directory, 'node_modules'));
  copyFileSync(join(ROOT, 'package.json'), join(directory, 'package.json'));
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const args = [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', directory, '--sourceMap', 'false'];
  try {
    await promisify(execFile)(process.execPath, args, { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    // tsc emits despite type errors (someone else's work in progress); only a missing output is fatal.
    const stdout = (error as { stdout?: unknown }).stdout;
    progress(
      `tsc reported problems (the build is used anyway):\n${typeof stdout === 'string' ? stdout.slice(0, 2000) : ''}`,
    );
  }
  const entry = join(directory, 'src', 'cli', 'main.js');
  if (!existsSync(entry)) throw new Error(`the build produced no ${entry}`);
  return entry;
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
