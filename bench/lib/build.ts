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

/** The Dockerfile's instructions, one per line once continuations are joined. */
function instructions(dockerfile: string): string[] {
  return readFileSync(dockerfile, 'utf8')
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/);
}

/**
 * The environment the image sets (every `ENV` instruction's variables; the last one to set a
 * variable wins, as in the run stage), read from the Dockerfile so that the benchmark runs the
 * controller with what the container runs it with.
 */
export function imageEnvironment(dockerfile = join(ROOT, 'Dockerfile')): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const instruction of instructions(dockerfile)) {
    if (!/^\s*ENV\s/i.test(instruction)) continue;
    for (const match of instruction.matchAll(
      /(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=(?:"([^"]*)"|'([^']*)'|(\S*))/g,
    )) {
      const [, name, doubleQuoted, singleQuoted, bare] = match;
      if (name !== undefined) environment[name] = doubleQuoted ?? singleQuoted ?? bare ?? '';
    }
  }
  return environment;
}

/**
 * The NODE_OPTIONS the image sets (the Dockerfile's `ENV … NODE_OPTIONS=…`), read from the Dockerfile
 * so that the benchmark runs the controller with what the container runs it with.
 */
export function imageNodeOptions(dockerfile = join(ROOT, 'Dockerfile')): string {
  const value = imageEnvironment(dockerfile)['NODE_OPTIONS'];
  if (value === undefined) throw new Error(`${dockerfile} sets no NODE_OPTIONS in an ENV instruction`);
  return value;
}

/**
 * The node flags of the image's `ENTRYPOINT` (exec form: `["/nodejs/bin/node", FLAG…, SCRIPT]`): V8
 * flags that NODE_OPTIONS refuses go there.
 */
export function imageNodeFlags(dockerfile = join(ROOT, 'Dockerfile')): string[] {
  let flags: string[] = [];
  for (const instruction of instructions(dockerfile)) {
    const exec = /^\s*ENTRYPOINT\s+(\[.*\])\s*$/i.exec(instruction)?.[1];
    if (exec === undefined) continue;
    const [, ...rest] = JSON.parse(exec) as string[];
    const script = rest.findIndex((argument) => !argument.startsWith('-'));
    flags = script === -1 ? rest : rest.slice(0, script);
  }
  return flags;
}

/** Everything the image runs the controller with besides its own arguments. */
export interface ImageRuntime {
  readonly nodeOptions: string;
  /** The image's other environment variables (NODE_OPTIONS apart). */
  readonly env: Readonly<Record<string, string>>;
  readonly nodeFlags: readonly string[];
}

export function imageRuntime(dockerfile = join(ROOT, 'Dockerfile')): ImageRuntime {
  const env = Object.fromEntries(
    Object.entries(imageEnvironment(dockerfile)).filter(([name]) => name !== 'NODE_OPTIONS'),
  );
  return { nodeOptions: imageNodeOptions(dockerfile), env, nodeFlags: imageNodeFlags(dockerfile) };
}
