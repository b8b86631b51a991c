import { parseArgs } from 'node:util';
import type { HumanDecision } from '../../api/v1alpha1/approval-request.ts';
import { UsageError } from '../../errors.ts';
import { lostRace } from '../../k8s/api-errors.ts';
import { GreenlightApi } from '../../k8s/greenlight-api.ts';
import { KUBE_FLAGS, KUBE_FLAGS_HELP, loadKubeConfig, namespaceOf, whoAmI } from '../kube.ts';

const help = (verb: string): string => `Usage: greenlight ${verb} NAME [flags]

Records your ${verb === 'approve' ? 'approval' : 'denial'} of the ApprovalRequest NAME in its status
(via kubernetes). The controller counts it when a policy that escalated the request lists you (or one
of your groups) as an approver and RBAC allows you the verb 'approve' on that policy; you cannot
approve your own request unless the policy allows it.

Flags:
  --comment C          why, shown with your answer
${KUBE_FLAGS_HELP}`;

const MAX_ATTEMPTS = 5;

export function answerCommand(decision: HumanDecision): (args: readonly string[]) => Promise<number> {
  const verb = decision === 'Approve' ? 'approve' : 'deny';
  return async (args) => {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: { comment: { type: 'string' }, help: { type: 'boolean', short: 'h' }, ...KUBE_FLAGS },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      process.stdout.write(`${help(verb)}\n`);
      return 0;
    }
    const [name, ...extra] = positionals;
    if (!name || extra.length > 0) throw new UsageError(`name exactly one request\n\n${help(verb)}`);
    const kubeConfig = loadKubeConfig(values);
    const namespace = namespaceOf(kubeConfig, values);
    const api = new GreenlightApi(kubeConfig);
    const me = await whoAmI(kubeConfig);
    const answer = {
      approver: me.username,
      via: 'kubernetes' as const,
      decision,
      groups: [...me.groups],
      ...(values.comment ? { comment: values.comment } : {}),
    };
    for (let attempt = 1; ; attempt++) {
      const request = await api.getRequest(namespace, name);
      if (request.status?.decision) {
        process.stderr.write(
          `greenlight: ${namespace}/${name} is already ${request.status.decision.outcome}\n`,
        );
        return 1;
      }
      try {
        await api.addApproval(request, { ...answer, at: new Date().toISOString() });
        process.stdout.write(
          `recorded: ${me.username} ${verb === 'approve' ? 'approves' : 'denies'} ${namespace}/${name}\n`,
        );
        return 0;
      } catch (error) {
        if (!lostRace(error) || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  };
}
