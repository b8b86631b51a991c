/**
 * `npm run bench [-- flags]`: the policy-engine micro-benchmark, then the controller benchmark against
 * a real control plane, each in its own process. `--quick` goes to both; every other flag goes to the
 * controller benchmark (`node bench/controller.ts --help`). `--only engine|controller` runs one.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const only = args.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
const forwarded = args.filter((arg) => !arg.startsWith('--only='));
const quick = forwarded.includes('--quick');
const help = forwarded.includes('--help') || forwarded.includes('-h');

const benchmarks = [
  { name: 'engine', script: 'policy-engine.ts', args: quick ? ['--quick'] : [] },
  { name: 'controller', script: 'controller.ts', args: forwarded },
].filter((benchmark) =>
  help ? benchmark.name === 'controller' : only === undefined || benchmark.name === only,
);

for (const benchmark of benchmarks) {
  const script = fileURLToPath(new URL(benchmark.script, import.meta.url));
  const result = spawnSync(process.execPath, [script, ...benchmark.args], { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(
      `bench/${benchmark.script} failed (${result.signal ?? `exit code ${String(result.status)}`})`,
    );
    process.exit(result.status ?? 1);
  }
}
