import { parseArgs } from 'node:util';
import { UsageError } from '../../errors.ts';
import { GreenlightApi } from '../../k8s/greenlight-api.ts';
import { explain } from '../describe.ts';
import { KUBE_FLAGS, KUBE_FLAGS_HELP, loadKubeConfig, namespaceOf } from '../kube.ts';

const help = `Usage: greenlight explain NAME [flags]

Shows an ApprovalRequest's decision and why: every policy and rule consulted, people's answers, and
its conditions.

Flags:
${KUBE_FLAGS_HELP}`;

export async function runExplain(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: { help: { type: 'boolean', short: 'h' }, ...KUBE_FLAGS },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  const [name, ...extra] = positionals;
  if (!name || extra.length > 0) throw new UsageError(`name exactly one request\n\n${help}`);
  const kubeConfig = loadKubeConfig(values);
  const request = await new GreenlightApi(kubeConfig).getRequest(namespaceOf(kubeConfig, values), name);
  process.stdout.write(`${explain(request)}\n`);
  return 0;
}
