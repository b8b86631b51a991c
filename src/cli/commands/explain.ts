import { parseArgs } from 'node:util';
import type { KubeConfig } from '@kubernetes/client-node';
import { APPROVAL_POLICY_PLURAL, type ApprovalPolicy } from '../../api/v1alpha1/approval-policy.ts';
import { UsageError } from '../../errors.ts';
import { isForbidden } from '../../k8s/api-errors.ts';
import { GreenlightApi } from '../../k8s/greenlight-api.ts';
import { explain } from '../describe.ts';
import { getRequestNamed } from '../find.ts';
import { KUBE_FLAGS, KUBE_FLAGS_HELP, loadKubeConfig } from '../kube.ts';

const help = `Usage: greenlight explain NAME [flags]

Shows an ApprovalRequest's decision and why: every policy and rule consulted, who may still approve
and how many answers are missing, people's answers, and its conditions. When no policy evaluated the
request, lists the namespace's policies and why each does not select it.

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
  const { request, namespace } = await getRequestNamed(kubeConfig, values, name);
  process.stdout.write(`${explain(request, await policiesIfReadable(kubeConfig, namespace))}\n`);
  return 0;
}

/** The namespace's policies, or undefined when the caller may not list them (explain shows less). */
async function policiesIfReadable(
  kubeConfig: KubeConfig,
  namespace: string,
): Promise<ApprovalPolicy[] | undefined> {
  try {
    const page = (await new GreenlightApi(kubeConfig).listPage(
      APPROVAL_POLICY_PLURAL,
      namespace,
      undefined,
    )) as {
      items?: ApprovalPolicy[];
    };
    return page.items ?? [];
  } catch (error) {
    if (isForbidden(error)) return undefined;
    throw error;
  }
}
