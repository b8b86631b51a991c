import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Identity } from '../../src/local-cluster/identities.ts';
import { cluster } from './cluster.ts';

export const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real `greenlight` command as a process, authenticated as one of the cluster's identities. */
export function greenlight(
  identity: Identity,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<CliResult> {
  return runProcess(process.execPath, [CLI, ...args], {
    env: { ...process.env, KUBECONFIG: cluster().kubeconfigs[identity], ...env },
  });
}

/** Runs a program to its end, feeding it `stdin` when given; the exit code and output as they are. */
export function runProcess(
  file: string,
  args: readonly string[],
  options: { readonly env?: NodeJS.ProcessEnv; readonly cwd?: string; readonly stdin?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, [...args], {
      env: options.env ?? process.env,
      ...(options.cwd ? { cwd: options.cwd } : {}),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      resolve({ code, stdout, stderr });
    });
    // A program that exits before reading its input closes the pipe; its exit code tells why.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.stdin ?? '');
  });
}
