import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { CORE_SCHEMA, load } from 'js-yaml';
import type { ApprovalRequestSpec } from '../../api/v1alpha1/approval-request.ts';
import { UsageError } from '../../errors.ts';
import { GreenlightApi } from '../../k8s/greenlight-api.ts';
import { parseDuration } from '../../policy/duration.ts';
import { KUBE_FLAGS, KUBE_FLAGS_HELP, loadKubeConfig, namespaceOf, whoAmI } from '../kube.ts';
import { describeParams, parseParams } from '../params.ts';
import { exitCodeFor, progressLines, waitForDecision } from '../wait.ts';

const help = `Usage: greenlight request --action A [flags]

Creates an ApprovalRequest in your name and prints its name. With --wait, waits for the decision
like 'greenlight wait' (exit 0 Approved, 1 Denied, 2 Expired, 3 timed out or error).

Flags:
  --action A           what you want to do: deploy, payment, db-migrate (required)
  --resource R         what it acts on: web, invoice/INV-42
  --param K=V          a parameter for the policy rules; repeatable. Read like YAML 1.2 scalars:
                       numbers (amount=450), true/True/TRUE, false/False/FALSE and null/~ are typed,
                       anything else is a string (yes/no/on/off too); K:=JSON takes raw JSON; dotted
                       keys nest (rollout.region=eu). The typed parameters are shown before sending.
  --label K=V          a label on the request (policies can select on labels); repeatable
  --params-file F      parameters from a YAML or JSON file (--param entries override it)
  --reason T           free text shown to approvers
  --name N             the request's name (default: generated from the action)
  --timeout D          how long it may stay undecided (90s, 30m, 24h); it is Expired after that
  --wait               wait for the decision
${KUBE_FLAGS_HELP}

Example:
  greenlight request --action payment --resource invoice/INV-42 --param amount=450 --param currency=USD --wait`;

async function readParamsFile(path: string): Promise<Record<string, never>> {
  const parsed = load(await readFile(path, 'utf8'), { schema: CORE_SCHEMA });
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError(`--params-file ${path} must hold an object (key: value pairs)`);
  }
  return parsed as Record<string, never>;
}

function specOf(
  values: {
    action: string;
    resource?: string | undefined;
    reason?: string | undefined;
    timeout?: string | undefined;
  },
  requester: string,
  parameters: Record<string, unknown>,
): ApprovalRequestSpec {
  return {
    action: values.action,
    requester,
    ...(values.resource ? { resource: values.resource } : {}),
    ...(Object.keys(parameters).length > 0 ? { parameters } : {}),
    ...(values.reason ? { reason: values.reason } : {}),
    ...(values.timeout ? { timeout: values.timeout } : {}),
  };
}

/** `--label team=payments` → {team: payments}; the API server checks the key and value syntax. */
function parseLabels(entries: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const entry of entries) {
    const split = entry.indexOf('=');
    if (split <= 0) throw new UsageError(`--label expects key=value, got "${entry}"`);
    labels[entry.slice(0, split)] = entry.slice(split + 1);
  }
  return labels;
}

export async function runRequest(args: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      action: { type: 'string' },
      resource: { type: 'string' },
      param: { type: 'string', multiple: true },
      label: { type: 'string', multiple: true },
      'params-file': { type: 'string' },
      reason: { type: 'string' },
      name: { type: 'string' },
      timeout: { type: 'string' },
      wait: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      ...KUBE_FLAGS,
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  if (!values.action) throw new UsageError(`--action is required\n\n${help}`);
  if (values.timeout !== undefined && parseDuration(values.timeout) === undefined) {
    throw new UsageError(`--timeout must be a duration such as 90s, 30m or 24h, not "${values.timeout}"`);
  }
  const base = values['params-file'] ? await readParamsFile(values['params-file']) : {};
  const parameters = parseParams(values.param ?? [], base);

  const labels = parseLabels(values.label ?? []);
  for (const line of describeParams(parameters)) process.stderr.write(`parameter ${line}\n`);

  const kubeConfig = loadKubeConfig(values);
  const namespace = namespaceOf(kubeConfig, values);
  const { username } = await whoAmI(kubeConfig);
  const spec = specOf({ ...values, action: values.action }, username, parameters);
  const created = await new GreenlightApi(kubeConfig).createRequest(namespace, values.name, spec, { labels });
  const name = created.metadata.name ?? '';
  process.stdout.write(`${name}\n`);
  if (!values.wait) return 0;

  const result = await waitForDecision({
    kubeConfig,
    namespace,
    name,
    timeoutMs: undefined, // the request's own timeout (or the policy's) ends the wait with Expired
    onChange: (request, previous) => {
      for (const line of progressLines(request, previous)) process.stderr.write(`${line}\n`);
    },
  });
  return exitCodeFor(result);
}
