import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadSuites } from './load.ts';
import { exitCodeFor, formatReport } from './report.ts';
import { runSuite } from './run.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const examples = join(root, 'examples');
const cli = join(root, 'src/cli/main.ts');

async function testRun(paths: string[]) {
  const { suites, problems } = await loadSuites(paths, root);
  const results = suites.map((suite) => runSuite(suite, new Date('2026-11-26T10:00:00Z')));
  return { results, problems, report: formatReport(results, problems), exit: exitCodeFor(results, problems) };
}

async function workspace(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'greenlight-policytest-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

const paymentsPolicy = await readFile(join(examples, 'payments/policy.yaml'), 'utf8');
const suite = (expect: string) => `apiVersion: greenlight.dev/v1alpha1
kind: ApprovalPolicyTest
metadata: {name: wrong}
cases:
  - name: a $450 payment
    request:
      spec: {action: payment, requester: ci, parameters: {amount: 450, currency: USD}}
    expect: ${expect}
`;

describe('greenlight test', () => {
  it('passes every example shipped in examples/', async () => {
    const run = await testRun([examples]);
    expect(run.problems).toEqual([]);
    expect(run.results.map((r) => r.file).sort()).toEqual([
      'examples/db-migrations/db-migrations.test.yaml',
      'examples/deployments/deployments.test.yaml',
      'examples/payments/payments.test.yaml',
    ]);
    const failures = run.results.flatMap((r) =>
      r.cases.filter((c) => !c.passed).map((c) => `${c.name}: ${c.mismatches.join('; ')}`),
    );
    expect(failures).toEqual([]);
    expect(run.exit).toBe(0);
  });

  it('fails a wrong expectation with a clear diff and the why-trace', async () => {
    const dir = await workspace({
      'policy.yaml': paymentsPolicy,
      'wrong.test.yaml': suite('{phase: Denied, decidedBy: "policy:payments/over-limit"}'),
    });
    const run = await testRun([dir]);
    expect(run.exit).toBe(1);
    expect(run.report).toContain('FAIL  a $450 payment');
    expect(run.report).toContain('phase: expected Denied, got Approved');
    expect(run.report).toContain(
      'decidedBy: expected policy:payments/over-limit, got policy:payments/below-500',
    );
    expect(run.report).toMatch(
      /payments\/below-500\s+Approve\s+payments below \$500 are approved automatically/,
    );
    expect(run.report.split('\n').at(-1)).toBe('0 passed, 1 failed');
  });

  it('refuses a policy with a bad field or a CEL error, naming where', async () => {
    const broken = paymentsPolicy
      .replace('decision: Deny', 'decision: Refuse')
      .replace("params.currency == 'USD'", "params.curency == 'USD' &&");
    const dir = await workspace({ 'policy.yaml': broken, 'x.test.yaml': suite('{phase: Approved}') });
    const schemaRun = await testRun([dir]);
    expect(schemaRun.exit).toBe(2);
    expect(schemaRun.report).toContain(
      'ApprovalPolicy payments: spec.rules[0].decision: must be one of Approve, Deny, Escalate, Hold',
    );

    const celOnly = paymentsPolicy.replace(
      "params.currency == 'USD' && params.amount",
      "params.currency == 'USD' && && params.amount",
    );
    const dir2 = await workspace({ 'policy.yaml': celOnly, 'x.test.yaml': suite('{phase: Approved}') });
    const celRun = await testRun([dir2]);
    expect(celRun.exit).toBe(2);
    // Once, at its place in the file (not inside the expression), and the cases are not run.
    expect(celRun.report).toMatch(
      /error: .*policy\.yaml:\d+:\d+: ApprovalPolicy payments: spec\.rules\[1\]\.when: /,
    );
    expect(celRun.report.match(/spec\.rules\[1\]\.when/g)).toHaveLength(1);
    expect(celRun.report).toContain('1 case not run: fix the policy first');
  });

  it('reads YAML as kubectl does: a bare notify.on key is the boolean true, and the error says to quote it', async () => {
    const bare = paymentsPolicy.replace("'on': [", 'on: [');
    const dir = await workspace({ 'policy.yaml': bare, 'x.test.yaml': suite('{phase: Approved}') });
    const run = await testRun([dir]);
    expect(run.exit).toBe(2);
    expect(run.report).toContain("spec.notify: unknown field true (quote YAML keys such as 'on')");
  });

  it('refuses a suite with an unknown field instead of ignoring it', async () => {
    const dir = await workspace({
      'policy.yaml': paymentsPolicy,
      'x.test.yaml': suite('{phase: Approved, decided_by: someone}'),
    });
    const run = await testRun([dir]);
    expect(run.exit).toBe(2);
    expect(run.report).toContain('cases[0].expect: unknown field decided_by');
  });

  it('exits 0, 1 and 2 from the command line', async () => {
    const exitOf = async (...args: string[]) => {
      try {
        await promisify(execFile)(process.execPath, [cli, 'test', ...args], { cwd: root });
        return 0;
      } catch (error) {
        return (error as { code?: number }).code;
      }
    };
    const wrong = await workspace({
      'policy.yaml': paymentsPolicy,
      'w.test.yaml': suite('{phase: Expired}'),
    });
    expect(await exitOf('examples')).toBe(0);
    expect(await exitOf(wrong)).toBe(1);
    expect(await exitOf(join(wrong, 'missing'))).toBe(2);
  }, 60_000); // three processes, on a machine that may be busy
});
