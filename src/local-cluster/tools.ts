import { execFile } from 'node:child_process';
import { packagePath } from '../package-root.ts';
import { promisify } from 'node:util';
import { ToolBuildError } from '../errors.ts';

export const ToolName = {
  Etcd: 'etcd',
  KubeApiserver: 'kube-apiserver',
  Kubectl: 'kubectl',
  Helm: 'helm',
  /** Prints the status kstatus (Flux's readiness library) computes for objects; hack/tools/kstatus. */
  Kstatus: 'kstatus',
  /** Runs an Argo CD Lua health script against objects, as Argo CD does; hack/tools/argo-lua. */
  ArgoLua: 'argo-lua',
} as const;
export type ToolName = (typeof ToolName)[keyof typeof ToolName];

/** Lets a user bring their own binaries, like envtest's TEST_ASSET_* variables. */
const overrideVariable: Record<ToolName, string> = {
  etcd: 'GREENLIGHT_ETCD',
  'kube-apiserver': 'GREENLIGHT_KUBE_APISERVER',
  kubectl: 'GREENLIGHT_KUBECTL',
  helm: 'GREENLIGHT_HELM',
  kstatus: 'GREENLIGHT_KSTATUS',
  'argo-lua': 'GREENLIGHT_ARGO_LUA',
};

const buildScript = packagePath('hack', 'build-tools.sh');

/** Parses the `NAME=PATH` lines printed by hack/build-tools.sh. */
export function parseToolPaths(output: string): Partial<Record<ToolName, string>> {
  const known = new Set<string>(Object.values(ToolName));
  const paths: Partial<Record<ToolName, string>> = {};
  for (const line of output.split('\n')) {
    const separator = line.indexOf('=');
    const name = line.slice(0, separator);
    if (separator > 0 && known.has(name)) paths[name as ToolName] = line.slice(separator + 1).trim();
  }
  return paths;
}

/**
 * Returns the path of each requested binary, building the missing ones from their pinned Go modules
 * (minutes, once per version; cached outside the repository). `GREENLIGHT_<TOOL>` overrides a path;
 * `GREENLIGHT_KUBERNETES` (e.g. `1.35`) picks another pinned Kubernetes release for the control plane.
 */
export async function resolveTools<const T extends ToolName>(
  names: readonly T[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<Record<T, string>> {
  const resolved: Partial<Record<ToolName, string>> = {};
  const toBuild: T[] = [];
  for (const name of names) {
    const override = env[overrideVariable[name]];
    if (override) resolved[name] = override;
    else toBuild.push(name);
  }
  if (toBuild.length > 0) Object.assign(resolved, await buildTools(toBuild, env));
  const result = {} as Record<T, string>;
  for (const name of names) {
    const path = resolved[name];
    if (!path) throw new ToolBuildError(`hack/build-tools.sh did not report a path for ${name}`);
    result[name] = path;
  }
  return result;
}

async function buildTools(
  names: readonly ToolName[],
  env: NodeJS.ProcessEnv,
): Promise<Partial<Record<ToolName, string>>> {
  try {
    const { stdout } = await promisify(execFile)('bash', [buildScript, ...names], {
      env,
      maxBuffer: 16 * 1024 * 1024,
    });
    return parseToolPaths(stdout);
  } catch (error) {
    const stderr = (error as { stderr?: unknown }).stderr;
    const detail = typeof stderr === 'string' ? stderr.trim().split('\n').slice(-15).join('\n') : '';
    throw new ToolBuildError(
      `Could not build ${names.join(', ')} from their Go modules. Building them needs Go 1.26 or newer ` +
        `on PATH (or set ${names.map((n) => overrideVariable[n]).join(', ')} to existing binaries).\n${detail}`,
      { cause: error },
    );
  }
}
