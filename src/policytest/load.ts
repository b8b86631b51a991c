import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { boolCoreTag, boolYaml11Tag, CORE_SCHEMA, loadAll, Schema } from 'js-yaml';
import { APPROVAL_POLICY_KIND, type ApprovalPolicy } from '../api/v1alpha1/approval-policy.ts';
import { ApprovalPolicySpecSchema } from '../api/v1alpha1/schemas/approval-policy.ts';
import { schemaErrors, type SchemaProblem } from '../api/v1alpha1/validate.ts';
import { messageOf } from '../errors.ts';
import { locators, type Locate } from './positions.ts';
import { POLICY_TEST_KIND, PolicyTestSchema, type PolicyTest } from './suite.ts';

export interface Document {
  readonly file: string;
  readonly index: number;
  readonly value: unknown;
  /** Where a field of the document stands in the file (undefined when the file's positions are unknown). */
  readonly locate: Locate;
}

export interface LoadedPolicy {
  readonly file: string;
  readonly policy: ApprovalPolicy;
  readonly locate: Locate;
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

/** Every YAML document of a file, parsed as kubectl would, with where its fields stand. */
async function documents(file: string): Promise<Document[]> {
  const text = await readFile(file, 'utf8');
  const values = loadAll(text, { schema: KUBECTL_YAML, filename: file });
  const located = locators(text);
  const unknown: Locate = () => undefined;
  return values
    .map((value, index) => ({ file, index, value, locate: located[index] ?? unknown }))
    .filter((document) => document.value !== null && document.value !== undefined);
}

/** `policy.yaml:15:5: ` for a problem at a JSON pointer of a document (the unknown key itself when that is the problem). */
function placeOf(document: Document, where: string, problem: SchemaProblem): string {
  const path = pathOf(problem.pointer);
  const unknownKey = /^unknown field (\S+)/.exec(problem.message)?.[1];
  const position = (unknownKey && document.locate(path, { key: unknownKey })) ?? document.locate(path);
  return position ? `${where}:${position.line}:${position.column}` : where;
}

/** `/spec/rules/0/when` → ['spec', 'rules', 0, 'when']. */
export function pathOf(pointer: string): (string | number)[] {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((part) => (/^[0-9]+$/.test(part) ? Number(part) : part));
}

function kindOf(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? (value as { kind?: unknown }).kind : undefined;
}

function policyProblems(document: Document, where: string): string[] {
  const value = document.value as { metadata?: { name?: unknown }; spec?: unknown };
  const name = value.metadata?.name;
  const kind = `ApprovalPolicy ${typeof name === 'string' ? name : ''}`;
  const problems = schemaErrors(ApprovalPolicySpecSchema, value.spec ?? {}, 'spec').map(
    (problem) =>
      `${placeOf(document, where, { ...problem, pointer: `/spec${problem.pointer}` })}: ${kind}: ${problem.field}: ${problem.message}`,
  );
  if (typeof name !== 'string') problems.unshift(`${where}: ${kind}: metadata.name: required`);
  return problems;
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
      const suiteProblems = schemaErrors(PolicyTestSchema, document.value, '');
      if (suiteProblems.length > 0) {
        problems.push(
          ...suiteProblems.map(
            (problem) =>
              `${placeOf(document, display(document.file), problem)}: ${problem.field}: ${problem.message}`,
          ),
        );
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
        policies: policyDocuments.map((d) => ({
          file: display(d.file),
          policy: d.value as ApprovalPolicy,
          locate: d.locate,
        })),
        contextObjects: (await named(test.context, [])).map((d) => d.value),
      });
    }
  }
  return { suites, problems };
}
