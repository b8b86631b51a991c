import { Watch, type KubeConfig } from '@kubernetes/client-node';
import {
  APPROVAL_REQUEST_PLURAL,
  isFinal,
  type Approval,
  type ApprovalRequest,
} from '../api/v1alpha1/approval-request.ts';
import { GreenlightApi } from '../k8s/greenlight-api.ts';
import { describeAnswerer } from '../policy/person.ts';
import { summarize } from './describe.ts';
import { WaitExit } from './exit-codes.ts';

/** The exit status of `greenlight wait` (and `request --wait`) for each outcome. */
export { WaitExit };

const POLL_MS = 5_000;

export type WaitResult =
  { readonly kind: 'decided'; readonly request: ApprovalRequest } | { readonly kind: 'timeout' };

/**
 * Waits until the request is decided: a watch delivers the decision the moment it is written, and a
 * slow poll covers a watch that broke. `onChange` hears every change people care about on the way: a
 * new phase, and each answer the controller has counted.
 */
export async function waitForDecision(options: {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly name: string;
  readonly timeoutMs: number | undefined;
  readonly onChange: (request: ApprovalRequest, previous: ApprovalRequest | undefined) => void;
}): Promise<WaitResult> {
  const api = new GreenlightApi(options.kubeConfig);
  const { namespace, name } = options;
  let previous: ApprovalRequest | undefined;
  let settle: (result: WaitResult) => void = () => undefined;
  const done = new Promise<WaitResult>((resolve) => (settle = resolve));
  const see = (request: ApprovalRequest): void => {
    // A request the controller has not looked at yet has nothing to tell.
    const last = previous ? progressKey(previous) : progressKey({ ...request, status: {} });
    if (progressKey(request) !== last) {
      options.onChange(request, previous);
      previous = request;
    }
    if (isFinal(request.status?.phase)) settle({ kind: 'decided', request });
  };

  const timers: NodeJS.Timeout[] = [];
  if (options.timeoutMs !== undefined)
    timers.push(
      setTimeout(() => {
        settle({ kind: 'timeout' });
      }, options.timeoutMs),
    );
  const poll = async (): Promise<void> => {
    see(await api.getRequest(namespace, name));
  };
  await poll();
  timers.push(
    setInterval(() => {
      poll().catch(() => undefined); // a failed poll is retried at the next tick
    }, POLL_MS),
  );
  const watch = await new Watch(options.kubeConfig).watch(
    GreenlightApi.path(APPROVAL_REQUEST_PLURAL, namespace),
    { fieldSelector: `metadata.name=${name}` },
    (_type, object: ApprovalRequest) => {
      see(object);
    },
    () => undefined,
  );
  try {
    return await done;
  } finally {
    for (const timer of timers) clearTimeout(timer);
    watch.abort();
  }
}

export function exitCodeFor(result: WaitResult): number {
  if (result.kind === 'timeout') return WaitExit.TimedOut;
  const phase = result.request.status?.phase;
  return phase === 'Approved' ? WaitExit.Approved : phase === 'Expired' ? WaitExit.Expired : WaitExit.Denied;
}

/** What changes the progress lines: the phase, and how many answers the controller has counted. */
function progressKey(request: ApprovalRequest): string {
  return `${request.status?.phase ?? ''}/${String(request.status?.observedApprovals ?? 0)}`;
}

/**
 * The lines to print for a change while waiting: each newly counted answer with where the request
 * stands now ("alice approved — Escalated: 1 of 2 approvals given for policy payments (…)"), or the
 * new phase. Pure.
 */
export function progressLines(request: ApprovalRequest, previous: ApprovalRequest | undefined): string[] {
  const standing = request.status?.decision ? '' : ` — ${summarize(request)}`;
  const lines = newAnswers(request, previous).map((answer) => `${answerLine(answer)}${standing}`);
  const newPhase = request.status?.phase !== previous?.status?.phase;
  if (newPhase && (lines.length === 0 || request.status?.decision)) lines.push(summarize(request));
  return lines;
}

/** Answers counted since `previous`, one per person's answer (it is one entry per policy it answers). */
function newAnswers(request: ApprovalRequest, previous: ApprovalRequest | undefined): Approval[] {
  const approvals = request.status?.approvals ?? [];
  const counted = Math.min(request.status?.observedApprovals ?? 0, approvals.length);
  const fresh = approvals.slice(previous?.status?.observedApprovals ?? 0, counted);
  return fresh.filter(
    (answer, index) =>
      index === 0 || fresh[index - 1]?.approver !== answer.approver || fresh[index - 1]?.via !== answer.via,
  );
}

function answerLine(answer: Approval): string {
  const verb = answer.decision === 'Approve' ? 'approved' : 'denied';
  return `${describeAnswerer(answer)} ${verb}${answer.comment ? `: "${answer.comment}"` : ''}`;
}
