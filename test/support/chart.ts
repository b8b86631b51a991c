import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { dump, loadAll } from 'js-yaml';
import { resolveTools } from '../../src/local-cluster/tools.ts';

// The Helm chart, the plain manifests rendered from it, and the tools that check them (helm from its
// Go module, promtool from Debian's prometheus package). Used by the chart tests and by
// `npm run generate`, which renders deploy/ with renderPlainManifests().

const root = fileURLToPath(new URL('../../', import.meta.url));

export const REPOSITORY_ROOT = root;
export const CHART_DIR = join(root, 'charts', 'greenlight');
export const FULL_VALUES_FILE = join(CHART_DIR, 'ci', 'full-values.yaml');
/** `kubectl apply -f deploy/` for people without Helm: the chart with its default values. */
export const PLAIN_MANIFESTS_FILE = join(root, 'deploy', 'greenlight.yaml');
/**
 * deploy/kubernetes-1.36/: the MutatingAdmissionPolicy, apart so that `kubectl apply -f deploy/` works
 * on every supported version; apply it too on Kubernetes 1.36+.
 */
export const PLAIN_MUTATING_FILE = join(root, 'deploy', 'kubernetes-1.36', 'requester-default.yaml');
/** What helm checks to render the MutatingAdmissionPolicy (served by Kubernetes 1.36+). */
export const MUTATING_ADMISSION_API = 'admissionregistration.k8s.io/v1/MutatingAdmissionPolicy';
export const PLAIN_RELEASE = 'greenlight';
export const PLAIN_NAMESPACE = 'greenlight-system';

export interface KubernetesManifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly [field: string]: unknown;
}

export interface ToolResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a binary and returns its exit code and output; never rejects on a non-zero exit. */
export async function run(
  binary: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ToolResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(binary, [...args], {
      maxBuffer: 64 * 1024 * 1024,
      ...(options.cwd ? { cwd: options.cwd } : {}),
      env: { ...process.env, ...options.env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: unknown; stderr?: unknown };
    if (typeof failed.code !== 'number') throw error;
    return {
      code: failed.code,
      stdout: typeof failed.stdout === 'string' ? failed.stdout : '',
      stderr: typeof failed.stderr === 'string' ? failed.stderr : '',
    };
  }
}

let helmPath: Promise<string> | undefined;

/** helm, built once from hack/tools/helm (or GREENLIGHT_HELM). */
export function helmBinary(): Promise<string> {
  helmPath ??= resolveTools(['helm']).then((tools) => tools.helm);
  return helmPath;
}

let promtoolPath: Promise<string> | undefined;

/** promtool from Debian's prometheus package, unpacked once by hack/promtool.sh (or GREENLIGHT_PROMTOOL). */
export function promtoolBinary(): Promise<string> {
  promtoolPath ??= run('bash', [join(root, 'hack', 'promtool.sh')]).then((result) => {
    const path = /^promtool=(.+)$/m.exec(result.stdout)?.[1];
    if (result.code !== 0 || !path) throw new Error(`hack/promtool.sh failed: ${result.stderr.trim()}`);
    return path;
  });
  return promtoolPath;
}

export async function helm(args: readonly string[]): Promise<ToolResult> {
  return run(await helmBinary(), args);
}

export interface TemplateOptions {
  readonly release?: string;
  readonly namespace?: string;
  /** Values, written to a temporary file and passed with -f after `valuesFiles`. */
  readonly values?: unknown;
  readonly valuesFiles?: readonly string[];
  readonly showOnly?: string;
  /** API versions helm takes the cluster to serve (`--api-versions`), beyond its defaults. */
  readonly apiVersions?: readonly string[];
}

/** Writes `values` to a temporary values file for the duration of `use`. */
export async function withValuesFile<T>(values: unknown, use: (file: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'greenlight-values-'));
  try {
    const file = join(dir, 'values.yaml');
    await writeFile(file, dump(values));
    return await use(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function templateArgs(options: TemplateOptions, extraFiles: readonly string[]): string[] {
  return [
    'template',
    options.release ?? PLAIN_RELEASE,
    CHART_DIR,
    '--namespace',
    options.namespace ?? PLAIN_NAMESPACE,
    ...(options.valuesFiles ?? []).flatMap((file) => ['-f', file]),
    ...extraFiles.flatMap((file) => ['-f', file]),
    ...(options.showOnly ? ['--show-only', options.showOnly] : []),
    ...(options.apiVersions ?? []).flatMap((version) => ['--api-versions', version]),
  ];
}

/** `helm template` with the options; the result carries helm's exit code and messages. */
export async function tryTemplate(options: TemplateOptions = {}): Promise<ToolResult> {
  if (options.values === undefined) return helm(templateArgs(options, []));
  return withValuesFile(options.values, (file) => helm(templateArgs(options, [file])));
}

/** `helm template`, failing with helm's message when it fails. */
export async function template(options: TemplateOptions = {}): Promise<string> {
  const result = await tryTemplate(options);
  if (result.code !== 0) throw new Error(`helm template failed: ${result.stderr.trim()}`);
  return result.stdout;
}

export function parseManifests(yaml: string): KubernetesManifest[] {
  return loadAll(yaml).filter(
    (document): document is KubernetesManifest =>
      typeof document === 'object' && document !== null && 'kind' in document,
  );
}

/** The one manifest of a kind and name; fails when there is none or more than one. */
export function find(
  manifests: readonly KubernetesManifest[],
  kind: string,
  name?: string,
): KubernetesManifest {
  const matches = manifests.filter(
    (manifest) => manifest.kind === kind && (name === undefined || manifest.metadata.name === name),
  );
  if (matches.length !== 1) {
    throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${matches.length}`);
  }
  const [match] = matches;
  if (!match) throw new Error('unreachable');
  return match;
}

const PLAIN_HEADER = `# Generated by \`npm run generate\`: the Helm chart charts/greenlight with its default values
# (helm template ${PLAIN_RELEASE} charts/greenlight --namespace ${PLAIN_NAMESPACE}), plus the namespace.
# Do not edit by hand. Install without Helm: kubectl apply --server-side -f deploy/
---
apiVersion: v1
kind: Namespace
metadata:
  name: ${PLAIN_NAMESPACE}
  labels:
    app.kubernetes.io/part-of: greenlight
    pod-security.kubernetes.io/enforce: restricted
`;

/** deploy/greenlight.yaml: the namespace, then the chart rendered with its default values. */
export async function renderPlainManifests(): Promise<string> {
  return PLAIN_HEADER + (await template());
}

const PLAIN_MUTATING_HEADER = `# Generated by \`npm run generate\` from the Helm chart charts/greenlight. Do not edit by hand.
# Kubernetes 1.36+ only: fills an omitted ApprovalRequest spec.requester with the caller.
# kubectl apply --server-side -f deploy/kubernetes-1.36/
`;

/** deploy/kubernetes-1.36/requester-default.yaml: the chart's MutatingAdmissionPolicy, as 1.36+ renders it. */
export async function renderPlainMutatingManifests(): Promise<string> {
  return (
    PLAIN_MUTATING_HEADER +
    (await template({
      showOnly: 'templates/mutating-admission-policies.yaml',
      apiVersions: [MUTATING_ADMISSION_API],
    }))
  );
}
