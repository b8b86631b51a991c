import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { boolCoreTag, boolYaml11Tag, CORE_SCHEMA, loadAll, Schema } from 'js-yaml';
import {
  ApprovalPolicySpecSchema,
  APPROVAL_POLICY_KIND,
  type ApprovalPolicy,
} from '../api/v1alpha1/approval-policy.ts';
import { schemaProblems } from '../api/v1alpha1/validate.ts';
import { messageOf } from '../errors.ts';
import { POLICY_TEST_KIND, PolicyTestSchema, type PolicyTest } from './suite.ts';

export interface Document {
  readonly file: string;
  readonly index: number;
  readonly value: unknown;
}

export interface LoadedPolicy {
  readonly file: string;
  readonly policy: ApprovalPolicy;
}

export interface LoadedSuite {
  readonly file: string;
  readonly test: PolicyTest;
  readonly policies: readonly LoadedPolicy[];
  readonly contextObjects: readonly unknown[];
}

export interface LoadResult {
  readonly suites: readonly LoadedSuite[];
  /** Files that cannot be used, each with why; any of them fails the run. */
  readonly problems: readonly string[];
}

const isYaml = (file: string): boolean => ['.yaml', '.yml'].includes(extname(file));

async function yamlFiles(path: string, recursive: boolean): Promise<string[]> {
  const info = await stat(path);
  if (!info.isDirectory()) return [path];
  const files: string[] = [];
  for (const entry of (await readdir(path, { withFileTypes: true })).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const child = join(path, entry.name);
    if (entry.isDirectory() && recursive) files.push(...(await yamlFiles(child, true)));
    else if (entry.isFile() && isYaml(entry.name)) files.push(child);
  }
  return files;
}

/**
 * YAML as kubectl reads it: YAML 1.1 booleans (a bare `on:` or `yes` is true, the classic trap of
 * `notify.on`), timestamps left as strings the way the API server keeps them.
 */
const KUBECTL_YAML = new Schema(CORE_SCHEMA.tags.map((tag) => (tag === boolCoreTag ? boolYaml11Tag : tag)));

/** Every YAML document of a file, parsed as kubectl would. */
async function documents(file: string): Promise<Document[]> {
  const values = loadAll(await readFile(file, 'utf8'), { schema: KUBECTL_YAML, filename: file });
  return values
    .filter((value) => value !== null && value !== undefined)
    .map((value, index) => ({ file, index, value }));
}

function kindOf(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? (value as { kind?: unknown }).kind : undefined;
}

function policyProblems(document: Document, where: string): string[] {
  const value = document.value as { metadata?: { name?: unknown }; spec?: unknown };
  const problems = schemaProblems(ApprovalPolicySpecSchema, value.spec ?? {}, 'spec');
  const name = value.metadata?.name;
  if (typeof name !== 'string') problems.unshift('metadata.name: required');
  return problems.map(
    (problem) => `${where}: ApprovalPolicy ${typeof name === 'string' ? name : ''}: ${problem}`,
  );
}

/**
 * Finds the test suites (`kind: ApprovalPolicyTest`) under the given paths and loads what each one
 * names. Policies are validated against the same schema as the CRD, so a typo fails here, not in
 * the cluster.
 */
export async function loadSuites(paths: readonly string[], cwd = process.cwd()): Promise<LoadResult> {
  const problems: string[] = [];
  const suites: LoadedSuite[] = [];
  const display = (file: string): string => relative(cwd, file) || file;
  const read = async (path: string, recursive: boolean): Promise<Document[]> => {
    const all: Document[] = [];
    for (const file of await yamlFiles(path, recursive)) {
      try {
        all.push(...(await documents(file)));
      } catch (error) {
        problems.push(`${display(file)}: ${messageOf(error)}`);
      }
    }
    return all;
  };

  for (const path of paths) {
    let found: Document[];
    try {
      found = await read(resolve(cwd, path), true);
    } catch (error) {
      problems.push(`${path}: ${messageOf(error)}`);
      continue;
    }
    for (const document of found.filter((d) => kindOf(d.value) === POLICY_TEST_KIND)) {
      const suiteProblems = schemaProblems(PolicyTestSchema, document.value, '');
      if (suiteProblems.length > 0) {
        problems.push(...suiteProblems.map((problem) => `${display(document.file)}: ${problem}`));
        continue;
      }
      const test = document.value as PolicyTest;
      const base = dirname(document.file);
      const named = async (paths: readonly string[] | undefined, fallback: string[]): Promise<Document[]> =>
        (await Promise.all((paths ?? fallback).map((p) => read(resolve(base, p), false)))).flat();
      const policyDocuments = (await named(test.policies, ['.'])).filter(
        (d) => kindOf(d.value) === APPROVAL_POLICY_KIND,
      );
      const invalid = policyDocuments.flatMap((d) => policyProblems(d, display(d.file)));
      problems.push(...invalid);
      if (policyDocuments.length === 0) problems.push(`${display(document.file)}: names no ApprovalPolicy`);
      if (invalid.length > 0 || policyDocuments.length === 0) continue;
      suites.push({
        file: display(document.file),
        test,
        policies: policyDocuments.map((d) => ({ file: display(d.file), policy: d.value as ApprovalPolicy })),
        contextObjects: (await named(test.context, [])).map((d) => d.value),
      });
    }
  }
  return { suites, problems };
}
