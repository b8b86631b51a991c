import { parseArgs } from 'node:util';
import { loadSuites } from '../../policytest/load.ts';
import { exitCodeFor, formatReport } from '../../policytest/report.ts';
import { runSuite } from '../../policytest/run.ts';
import { UsageError } from '../../errors.ts';

const help = `Usage: greenlight test PATH...

Evaluates ApprovalPolicies against sample requests offline (no cluster) and checks the expected
outcomes, for testing policies in CI before they are merged. PATH is a file or a folder (searched
recursively) with test suites: YAML documents of kind ApprovalPolicyTest.

  apiVersion: greenlight.dev/v1alpha1
  kind: ApprovalPolicyTest
  metadata: {name: payments}
  policies: [policy.yaml]          # files or folders, relative to this file (default: its folder)
  context: [objects.yaml]          # objects the policies read as context (optional)
  now: "2026-11-26T12:00:00Z"      # fixed evaluation time (optional)
  cases:
    - name: a $450 payment is approved
      request:
        spec: {action: payment, requester: "system:serviceaccount:ci:payments", parameters: {amount: 450}}
      approvals: [{approver: alice, groups: [approvers], decision: Approve}]   # optional
      expect: {phase: Approved, decidedBy: "policy:payments/small", reason: "below"}

Exit status: 0 all cases passed, 1 a case did not get what it expected, 2 invalid files or policies
(or no suite found).`;

export async function runTest(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: { help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError(`name at least one file or folder\n\n${help}`);
  const { suites, problems } = await loadSuites(positionals);
  const runTime = new Date();
  const results = suites.map((suite) => runSuite(suite, runTime));
  const found =
    suites.length === 0 && problems.length === 0
      ? ['no ApprovalPolicyTest found under ' + positionals.join(', ')]
      : [];
  process.stdout.write(`${formatReport(results, [...problems, ...found])}\n`);
  return exitCodeFor(results, [...problems, ...found]);
}
