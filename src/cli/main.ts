#!/usr/bin/env node
import { UsageError } from '../errors.ts';
import { describeError, isUsageError } from './errors.ts';
import { WaitExit } from './exit-codes.ts';

const usage = `greenlight: approvals for machines, decided by policy or by people in Slack

Usage: greenlight <command> [flags]      (also: kubectl greenlight <command>)

For pipelines:
  request     ask for approval (--action, --param, …); --wait blocks until decided
  wait        block until a request is decided (exit 0 Approved, 1 Denied, 2 Expired, 3 timed out)
For people:
  approve     approve a request
  deny        deny a request
  explain     show a request's decision and why
For policy authors:
  test        evaluate policies against sample requests offline and check the expected outcomes
Running Greenlight:
  controller  run the controller (the container's command)
  demo        start a local control plane and play the sample workflows

Run 'greenlight <command> --help' for a command's flags. A usage error (an unknown flag, a missing
argument) exits 64.`;

interface Command {
  readonly run: (args: readonly string[]) => Promise<number>;
  /** The exit status when the command fails (wait's contract says 3). */
  readonly errorExit: (args: readonly string[]) => number;
}

const one = (): number => 1;
// Each command is loaded when it runs: a controller need not hold the demo's local control plane, and
// `greenlight request` in a pipeline starts faster.
const commands: Readonly<Record<string, Command>> = {
  request: {
    run: async (args) => (await import('./commands/request.ts')).runRequest(args),
    errorExit: (args) => (args.includes('--wait') ? WaitExit.TimedOut : 1),
  },
  wait: {
    run: async (args) => (await import('./commands/wait.ts')).runWait(args),
    errorExit: () => WaitExit.TimedOut,
  },
  approve: {
    run: async (args) => (await import('./commands/answer.ts')).answerCommand('Approve')(args),
    errorExit: one,
  },
  deny: {
    run: async (args) => (await import('./commands/answer.ts')).answerCommand('Deny')(args),
    errorExit: one,
  },
  explain: { run: async (args) => (await import('./commands/explain.ts')).runExplain(args), errorExit: one },
  test: { run: async (args) => (await import('./commands/test.ts')).runTest(args), errorExit: () => 2 },
  controller: {
    run: async (args) => (await import('./commands/controller.ts')).runController(args),
    errorExit: one,
  },
  demo: { run: async (args) => (await import('./commands/demo.ts')).runDemo(args), errorExit: one },
};

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${usage}\n`);
    return name === undefined ? 64 : 0;
  }
  const command = commands[name];
  if (!command) throw new UsageError(`unknown command "${name}"\n\n${usage}`);
  try {
    return await command.run(rest);
  } catch (error) {
    if (isUsageError(error)) throw error;
    process.stderr.write(`greenlight ${name}: ${describeError(error)}\n`);
    return command.errorExit(rest);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`greenlight: ${describeError(error)}\n`);
    process.exitCode = 64;
  },
);
