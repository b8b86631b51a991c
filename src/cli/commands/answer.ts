import { parseArgs } from 'node:util';
import type { ApprovalPolicy } from '../../api/v1alpha1/approval-policy.ts';
import type { Approval, ApprovalRequest, HumanDecision } from '../../api/v1alpha1/approval-request.ts';
import { rfc3339 } from '../../api/v1alpha1/schema.ts';
import { UsageError } from '../../errors.ts';
import { callerMayApprove } from '../../k8s/access-review.ts';
import { isForbidden, lostRace } from '../../k8s/api-errors.ts';
import { GreenlightApi } from '../../k8s/greenlight-api.ts';
import { canonicalUser, isSamePerson } from '../../policy/person.ts';
import { hasAnswered, questionsAsked, type Question } from '../../policy/questions.ts';
import { getRequestNamed } from '../find.ts';
import { KUBE_FLAGS, KUBE_FLAGS_HELP, loadKubeConfig, whoAmI, type Identity } from '../kube.ts';

const help = (verb: string): string => `Usage: greenlight ${verb} NAME [flags]

Records your ${verb === 'approve' ? 'approval' : 'denial'} of the ApprovalRequest NAME in its status
(via kubernetes), once it waits for people (Escalated): one entry for each policy that escalated it and
that RBAC allows you the verb 'approve' on. The controller counts it when that policy lists you (or one
of your groups) as an approver. An answer is final and counts once, however you answer (here or in
Slack); you cannot approve your own request unless the policy allows it.

Flags:
  --comment C          why, shown with your answer
${KUBE_FLAGS_HELP}`;

const MAX_ATTEMPTS = 5;

/** A refusal the person can act on; the command exits 1 with it. */
class Refused extends Error {}

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
    const api = new GreenlightApi(kubeConfig);
    const { namespace } = await getRequestNamed(kubeConfig, values, name);
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
      let questions: readonly Question[];
      try {
        questions = await questionsFor(request, me, {
          mayApprove: (policy) => callerMayApprove(kubeConfig, namespace, policy),
          policy: (policy) => api.getPolicy(namespace, policy),
        });
      } catch (error) {
        if (!(error instanceof Refused)) throw error;
        process.stderr.write(`greenlight: ${error.message}\n`);
        return 1;
      }
      const at = rfc3339(new Date());
      const entries: Approval[] = questions.map((q) => ({
        ...answer,
        at,
        policy: q.policy,
        policyGeneration: q.generation,
      }));
      try {
        await api.addApprovals(request, entries);
        const policies = questions.map((q) => q.policy).join(', ');
        process.stdout.write(
          `recorded: ${me.username} ${verb === 'approve' ? 'approves' : 'denies'} ${namespace}/${name} (policy ${policies})\n`,
        );
        return 0;
      } catch (error) {
        if (!lostRace(error) || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  };
}

/**
 * The escalating policies the caller may answer now; a Refused error says why there are none. The
 * API server checks the same again (admission), and the controller decides what counts.
 */
async function questionsFor(
  request: ApprovalRequest,
  me: Identity,
  lookup: {
    readonly mayApprove: (policy: string) => Promise<boolean>;
    readonly policy: (policy: string) => Promise<ApprovalPolicy>;
  },
): Promise<Question[]> {
  const where = `${request.metadata.namespace ?? ''}/${request.metadata.name ?? ''}`;
  refuseUnlessWaiting(request, where);
  const asked = questionsAsked(request);
  const allowed: Question[] = [];
  for (const question of asked) if (await lookup.mayApprove(question.policy)) allowed.push(question);
  if (allowed.length === 0) {
    const names = asked.map((q) => q.policy).join(', ') || '(none)';
    throw new Refused(
      `you may not answer for the policies that escalated ${where} (${names}): ` +
        "RBAC must allow you the verb 'approve' on approvalpolicies/<name> in group greenlight.dev",
    );
  }
  const mine = isSamePerson(canonicalUser(me.username), request.spec.requester)
    ? await selfApprovable(allowed, lookup.policy)
    : allowed;
  if (mine.length === 0) throw new Refused(`you asked for ${where}; someone else has to approve it`);
  const open = mine.filter((question) => !hasAnswered(request, me.username, question));
  if (open.length === 0)
    throw new Refused(`you already answered ${where}; an answer is final and counts once`);
  return open;
}

function refuseUnlessWaiting(request: ApprovalRequest, where: string): void {
  const status = request.status;
  if (status?.decision) throw new Refused(`${where} is already ${status.decision.outcome}`);
  if (status?.phase !== 'Escalated') {
    throw new Refused(
      `${where} is ${status?.phase ?? 'new'}, not waiting for people: answers are taken once a policy escalates it`,
    );
  }
}

/** The questions whose policy lets the requester approve; a policy the caller cannot read is kept (the controller decides). */
async function selfApprovable(
  questions: readonly Question[],
  policy: (name: string) => Promise<ApprovalPolicy>,
): Promise<Question[]> {
  const kept: Question[] = [];
  for (const question of questions) {
    try {
      if ((await policy(question.policy)).spec.escalation?.allowSelfApproval === true) kept.push(question);
    } catch (error) {
      if (!isForbidden(error)) throw error;
      kept.push(question);
    }
  }
  return kept;
}
