import { parseArgs } from 'node:util';
import { UsageError } from '../../errors.ts';
import { parseDuration } from '../../policy/duration.ts';
import { summarize } from '../describe.ts';
import { getRequestNamed } from '../find.ts';
import { KUBE_FLAGS, KUBE_FLAGS_HELP, loadKubeConfig } from '../kube.ts';
import { exitCodeFor, progressLines, waitForDecision, WaitExit } from '../wait.ts';

const help = `Usage: greenlight wait NAME [flags]

Blocks until the ApprovalRequest NAME is decided, printing each change on standard error and the
decision on standard output.

Exit status: 0 Approved, 1 Denied, 2 Expired, 3 timed out or error.

Flags:
  --timeout D          stop waiting after D (90s, 30m, 24h); exit 3
${KUBE_FLAGS_HELP}`;

export async function runWait(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: { timeout: { type: 'string' }, help: { type: 'boolean', short: 'h' }, ...KUBE_FLAGS },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  const [name, ...extra] = positionals;
  if (!name || extra.length > 0) throw new UsageError(`name exactly one request\n\n${help}`);
  const timeoutMs = values.timeout === undefined ? undefined : parseDuration(values.timeout);
  if (values.timeout !== undefined && timeoutMs === undefined) {
    throw new UsageError(`--timeout must be a duration such as 90s, 30m or 24h, not "${values.timeout}"`);
  }
  const kubeConfig = loadKubeConfig(values);
  const { namespace } = await getRequestNamed(kubeConfig, values, name);
  const result = await waitForDecision({
    kubeConfig,
    namespace,
    name,
    timeoutMs,
    onChange: (request, previous) => {
      if (request.status?.decision) return; // printed on standard output below
      for (const line of progressLines(request, previous)) process.stderr.write(`${line}\n`);
    },
  });
  if (result.kind === 'timeout') {
    process.stderr.write(`greenlight: ${name} is still undecided after ${values.timeout ?? ''}\n`);
    return WaitExit.TimedOut;
  }
  process.stdout.write(`${summarize(result.request)}\n`);
  return exitCodeFor(result);
}
