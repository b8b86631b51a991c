import type { Evaluation } from '../api/v1alpha1/approval-request.ts';
import type { CaseResult, Observed, SuiteResult } from './run.ts';

function table(rows: readonly (readonly string[])[], indent: string): string[] {
  const widths = rows.reduce<number[]>(
    (max, row) => row.map((cell, index) => Math.max(max[index] ?? 0, cell.length)),
    [],
  );
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, index) => cell.padEnd(widths[index] ?? 0))
        .join('  ')
        .trimEnd(),
  );
}

function describeObserved(observed: Observed): string {
  if (observed.decidedBy) return `${observed.phase} by ${observed.decidedBy}`;
  return `${observed.phase}: ${observed.reason}`;
}

function describeExpected(expected: CaseResult['expected']): string {
  return expected.decidedBy ? `${expected.phase} by ${expected.decidedBy}` : expected.phase;
}

function trace(evaluations: readonly Evaluation[]): string[] {
  const rows = evaluations.map((e) => [
    e.rule ? `${e.policy}/${e.rule}` : `${e.policy} (default)`,
    e.dryRun ? `${e.result} (dry run)` : e.result,
    e.message,
  ]);
  return rows.length > 0
    ? ['          why:', ...table(rows, '            ')]
    : ['          why: no policy selects it'];
}

/** The human-readable report of `greenlight test`, ending with "N passed, N failed". */
export function formatReport(results: readonly SuiteResult[], loadProblems: readonly string[]): string {
  const lines: string[] = [];
  for (const problem of loadProblems) lines.push(`error: ${problem}`);
  if (loadProblems.length > 0) lines.push('');
  for (const suite of results) {
    lines.push(`${suite.file} (${suite.name})`);
    for (const problem of suite.problems) lines.push(`  error: ${problem}`);
    if (suite.notRun > 0) {
      lines.push(`  ${plural(suite.notRun, 'case')} not run: fix the policy first`, '');
      continue;
    }
    const rows = [['', 'CASE', 'EXPECTED', 'GOT']];
    for (const result of suite.cases) {
      rows.push([
        result.passed ? 'PASS' : 'FAIL',
        result.name,
        describeExpected(result.expected),
        describeObserved(result.observed),
      ]);
    }
    const rendered = table(rows, '  ');
    lines.push(rendered[0] ?? '');
    suite.cases.forEach((result, index) => {
      lines.push(rendered[index + 1] ?? '');
      if (result.passed) return;
      for (const mismatch of result.mismatches) lines.push(`          ${mismatch}`);
      lines.push(...trace(result.evaluations));
    });
    lines.push('');
  }
  lines.push(...summary(results, loadProblems));
  return lines.join('\n');
}

/** "1 suite, 2 cases, 2 not run, 1 error" then "0 passed, 0 failed". */
function summary(results: readonly SuiteResult[], loadProblems: readonly string[]): string[] {
  const cases = results.flatMap((suite) => suite.cases);
  const failed = cases.filter((c) => !c.passed).length;
  const notRun = results.reduce((sum, suite) => sum + suite.notRun, 0);
  const errors = loadProblems.length + results.reduce((sum, suite) => sum + suite.problems.length, 0);
  const ran =
    results.length === 0 && errors > 0
      ? 'no suite ran'
      : `${plural(results.length, 'suite')}, ${plural(cases.length + notRun, 'case')}`;
  const counts = [ran, notRun > 0 ? `${notRun} not run` : '', errors > 0 ? plural(errors, 'error') : ''];
  return [counts.filter(Boolean).join(', '), `${cases.length - failed} passed, ${failed} failed`];
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

export const TestExit = { Passed: 0, Mismatch: 1, Invalid: 2 } as const;

/** 0 when every case passed, 1 on a mismatch, 2 when files or policies are invalid or nothing was found. */
export function exitCodeFor(results: readonly SuiteResult[], loadProblems: readonly string[]): number {
  const invalid =
    loadProblems.length > 0 || results.length === 0 || results.some((s) => s.problems.length > 0);
  if (invalid) return TestExit.Invalid;
  return results.every((suite) => suite.cases.every((c) => c.passed)) ? TestExit.Passed : TestExit.Mismatch;
}
