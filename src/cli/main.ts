#!/usr/bin/env node
import { messageOf, UsageError } from '../errors.ts';
import { runDemo } from './commands/demo.ts';
import { runTest } from './commands/test.ts';

const usage = `greenlight: approvals for machines, decided by policy or by people in Slack

Usage: greenlight <command> [flags]

Commands:
  test        evaluate policies against sample requests offline and check the expected outcomes
  demo        start a local control plane (real etcd + kube-apiserver) and show how to use it
  help        show this help

Run 'greenlight <command> --help' for a command's flags.`;

type Command = (args: readonly string[]) => Promise<number>;

const commands: Readonly<Record<string, Command>> = {
  demo: runDemo,
  test: runTest,
  help: () => {
    process.stdout.write(`${usage}\n`);
    return Promise.resolve(0);
  },
};

async function main(argv: readonly string[]): Promise<number> {
  const [name = 'help', ...rest] = argv;
  const command = commands[name === '--help' || name === '-h' ? 'help' : name];
  if (!command) throw new UsageError(`unknown command "${name}"\n\n${usage}`);
  return command(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`greenlight: ${messageOf(error)}\n`);
    process.exitCode = error instanceof UsageError ? 64 : 1;
  },
);
