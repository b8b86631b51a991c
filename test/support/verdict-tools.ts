import { spawn } from 'node:child_process';
import { resolveTools } from '../../src/local-cluster/tools.ts';
import type { ToolResult } from './chart.ts';

// What GitOps tools would say about objects: kstatus (the library Flux and kpt wait with) and Argo CD's
// Lua health scripts, each run by a small helper built from its Go module (hack/tools/kstatus,
// hack/tools/argo-lua). Both read a JSON array of objects on stdin and answer one verdict per object.

/** The statuses kstatus computes (sigs.k8s.io/cli-utils/pkg/kstatus/status). */
export type KstatusStatus = 'InProgress' | 'Current' | 'Failed' | 'Terminating' | 'NotFound' | 'Unknown';

/** Argo CD's health statuses. */
export type ArgoHealthStatus = 'Healthy' | 'Progressing' | 'Degraded' | 'Suspended' | 'Missing' | 'Unknown';

/** One object's verdict: its metadata.name, the status and the tool's message. */
export interface Verdict<S extends string> {
  readonly name: string;
  readonly status: S;
  readonly message: string;
}

/** A verdict tool exited non-zero; the message carries its stderr. */
export class VerdictToolError extends Error {
  readonly result: ToolResult;

  constructor(message: string, result: ToolResult, options?: ErrorOptions) {
    super(message, options);
    this.name = 'VerdictToolError';
    this.result = result;
  }
}

let tools: Promise<Record<'kstatus' | 'argo-lua', string>> | undefined;

/** Paths of both helpers, built once (about a minute and a half cold) or taken from GREENLIGHT_KSTATUS / GREENLIGHT_ARGO_LUA. */
export function verdictTools(): Promise<Record<'kstatus' | 'argo-lua', string>> {
  tools ??= resolveTools(['kstatus', 'argo-lua']);
  return tools;
}

/** The kstatus verdict of each object, in order. */
export async function kstatus(objects: readonly object[]): Promise<Verdict<KstatusStatus>[]> {
  return verdicts(await runKstatus(JSON.stringify(objects)), 'kstatus');
}

/** The Argo CD health of each object under the Lua script at scriptPath, in order. */
export async function argoHealth(
  scriptPath: string,
  objects: readonly object[],
): Promise<Verdict<ArgoHealthStatus>[]> {
  return verdicts(await runArgoLua(scriptPath, JSON.stringify(objects)), 'argo-lua');
}

/** kstatus on raw stdin; exit code and output as they are. */
export async function runKstatus(stdin: string): Promise<ToolResult> {
  return runWithInput((await verdictTools()).kstatus, [], stdin);
}

/** argo-lua SCRIPT on raw stdin; exit code and output as they are. */
export async function runArgoLua(scriptPath: string, stdin: string): Promise<ToolResult> {
  return runWithInput((await verdictTools())['argo-lua'], [scriptPath], stdin);
}

function verdicts<S extends string>(result: ToolResult, tool: string): Verdict<S>[] {
  if (result.code !== 0) {
    throw new VerdictToolError(`${tool} exited ${String(result.code)}: ${result.stderr.trim()}`, result);
  }
  try {
    return JSON.parse(result.stdout) as Verdict<S>[];
  } catch (error) {
    throw new VerdictToolError(`${tool} printed something other than JSON: ${result.stdout}`, result, {
      cause: error,
    });
  }
}

function runWithInput(binary: string, args: readonly string[], stdin: string): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    // A tool that exits before reading all of stdin closes the pipe; its exit code tells why.
    child.stdin.on('error', () => undefined);
    child.on('close', (code) => {
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}
