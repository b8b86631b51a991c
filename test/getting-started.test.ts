import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { GreenlightApi } from '../src/k8s/greenlight-api.ts';
import { REPOSITORY_ROOT } from './support/chart.ts';
import { CLI, runProcess, type CliResult } from './support/cli.ts';
import { cluster, kubeConfigAs } from './support/cluster.ts';
import { startController, type RunningController } from './support/controller.ts';

// docs/getting-started.md, run as written: every command of its `sh` blocks, in order, against the
// real control plane (with the ClusterRoles and Slack links `greenlight demo` installs), as the
// demo's kubeconfig contexts. A trailing "(exit N)" in a command's comment is the exit status the doc
// promises; every other command must succeed. Only the namespace differs: each run uses its own.

const DOC = `${REPOSITORY_ROOT}/docs/getting-started.md`;
const admin = new GreenlightApi(kubeConfigAs('admin'));
const running: RunningController[] = [];
afterAll(async () => {
  await Promise.all(running.map((controller) => controller.stop()));
});

interface Step {
  readonly command: string;
  readonly args: readonly string[];
  readonly exit: number;
}

/** The commands of the doc's `sh` blocks, with the exit status each is said to end with. */
function walk(markdown: string, namespace: string): Step[] {
  const blocks = [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
  return blocks
    .flatMap((block) => block.split('\n'))
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [code = '', comment = ''] = line.split(/\s+#\s+/, 2);
      const exit = Number(/\(exit (\d+)\)/.exec(comment)?.[1] ?? 0);
      const [command = '', ...args] = words(code.replace(/(-n |namespace )orders\b/g, `$1${namespace}`));
      return { command, args, exit };
    });
}

/** Splits a command line into words, with "double-quoted" words as one. */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((match) => match[1] ?? match[2] ?? '');
}

function run(step: Step): Promise<CliResult> {
  const [file, args] =
    step.command === 'greenlight'
      ? [process.execPath, [CLI, ...step.args]]
      : step.command === 'kubectl'
        ? [cluster().kubectl, step.args]
        : [step.command, step.args];
  return runProcess(file, args, {
    cwd: REPOSITORY_ROOT,
    env: { ...process.env, KUBECONFIG: cluster().kubeconfig },
  });
}

describe('docs/getting-started.md', () => {
  it('works as written, from a new namespace to a migration two people approved', async () => {
    const namespace = `orders-${randomBytes(4).toString('hex')}`;
    // The demo runs a controller for every namespace; this one watches the new namespace only.
    running.push(await startController(namespace));
    const steps = walk(await readFile(DOC, 'utf8'), namespace);
    expect(steps.length).toBeGreaterThan(10);

    const outputs: string[] = [];
    for (const step of steps) {
      const result = await run(step);
      const said = `${step.command} ${step.args.join(' ')}\n${result.stdout}${result.stderr}`;
      outputs.push(said);
      expect(result.code, said).toBe(step.exit);
    }
    const everything = outputs.join('\n');
    expect(everything).toContain('reversible = true (bool)');
    expect(everything).toContain(
      '0 of 2 approvals given for policy db-migrations (approvers: group approvers)',
    );
    expect(everything).toContain('you already answered');
    expect(everything).toContain("RBAC must allow you the verb 'approve'");

    const migration = await admin.getRequest(namespace, 'mig-43');
    expect(migration.status?.decision).toMatchObject({
      outcome: 'Approved',
      decidedBy: 'user:bob',
      reason: 'approved by alice, bob: backup verified',
    });
    expect(migration.status?.approvalProgress).toBe('2/2');
    expect(outputs.at(-1)).toMatch(
      /mig-43\s+db-migrate\s+orders-db\s+system:serviceaccount:ci:deployer\s+Approved/,
    );
  });

  it('says which namespace it looked in when -n is missing, as the doc shows', async () => {
    const forgot = await run({
      command: 'greenlight',
      args: ['approve', 'mig-43', '--context', 'alice'],
      exit: 1,
    });
    expect(forgot.code).toBe(1);
    expect(forgot.stderr).toContain('you may not read ApprovalRequests in namespace "default"');
    expect(forgot.stderr).toContain('is -n missing?');
  });
});
