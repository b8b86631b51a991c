import {
  MAX_PARAMETERS_BYTES,
  type Approval,
  type ApprovalRequest,
  type Evaluation,
  type Phase,
} from '../api/v1alpha1/approval-request.ts';
import { combine } from './combine.ts';
import type { CompiledPolicy } from './compile-policy.ts';
import {
  evaluatePolicy,
  resolveContextReferences,
  unavailableReason,
  type ContextReference,
  type PolicyInput,
} from './evaluate-policy.ts';
import { deadline } from './expiry.ts';
import type { WaitingOn } from './progress.ts';
import { selects, whyNotSelected } from './selector.ts';
import { tally, type Tally } from './tally.ts';
import { DecidedBy, type JudgedApproval, type PolicyVerdict } from './verdict.ts';

/** How many policies a "no policy selects this request" decision names (the reason has a size limit). */
const MAX_UNSELECTED_NAMED = 10;

const NO_REQUESTER =
  "spec.requester is empty: nobody can tell who asked (are Greenlight's admission policies installed?)";

/** The API's limit on status.evaluations. */
export const MAX_EVALUATIONS = 64;

export interface DecideInput {
  readonly request: ApprovalRequest;
  /** Every policy of the request's namespace (selection happens here), compiled. */
  readonly policies: readonly CompiledPolicy[];
  /**
   * The object a context entry names, null when it does not exist, or contextUnavailable(reason) when
   * it cannot be read now (the policy then holds and the controller retries).
   */
  readonly lookup: (reference: Extract<ContextReference, { name: string }>) => unknown;
  readonly approvals: readonly JudgedApproval[];
  readonly now: Date;
  /** Kubernetes users who are the requester too (a Slack-born request's asker, linked); none by default. */
  readonly requesterAliases?: readonly string[];
}

export interface Resolution {
  /** Pending, Escalated, or a final phase. */
  readonly phase: Phase;
  /** Set exactly when the phase is final. */
  readonly decision?: {
    readonly outcome: 'Approved' | 'Denied' | 'Expired';
    readonly decidedBy: string;
    readonly reason: string;
  };
  /** What is going on, in words (also for undecided requests). */
  readonly reason: string;
  readonly evaluations: readonly Evaluation[];
  /** Names of the policies that select the request (Enforce and DryRun). */
  readonly selected: readonly string[];
  readonly verdicts: readonly PolicyVerdict[];
  /** Each escalating policy's progress toward its quorum (also when people decided). */
  readonly waitingOn: readonly WaitingOn[];
  readonly expiresAt?: Date;
  readonly ignoredApprovals: readonly { readonly approval: Approval; readonly why: string }[];
}

/**
 * The whole decision for one request at one instant, from the current state alone: the same function
 * serves the controller and `greenlight test`. Pure: every input is an argument.
 */
export function decide(input: DecideInput): Resolution {
  const { request, now } = input;
  const selected = input.policies.filter((policy) => selects(policy.policy.spec.selector, request));
  const verdicts = selected.map((policy) => evaluatePolicy(policy, contextFor(policy, input)));
  const evaluations = boundTrace(verdicts);
  const limit = deadline(
    request,
    selected.map((policy) => policy.policy),
  );
  const base = {
    evaluations,
    selected: selected.map((policy) => policy.name),
    verdicts,
    waitingOn: [],
    ignoredApprovals: [],
    ...(limit ? { expiresAt: limit.at } : {}),
  };

  const oversized = parametersProblem(request);
  if (oversized) return final(base, 'Denied', DecidedBy.controller, oversized);
  if (!request.spec.requester) {
    // Only without Greenlight's admission policies: nobody could tell who asked, or who may not approve.
    return final(base, 'Denied', DecidedBy.controller, NO_REQUESTER);
  }
  if (limit && now.getTime() >= limit.at.getTime()) {
    return final(base, 'Expired', DecidedBy.timeout, `no decision within ${limit.source}`);
  }

  const tallies = new Map<string, Tally>();
  const tallyFor = (name: string): Tally => {
    const policy = selected.find((p) => p.name === name);
    const result = tally(input.approvals, {
      policy: name,
      generation: policy?.generation ?? 0,
      allowSelfApproval: policy?.allowSelfApproval ?? false,
      requester: request.spec.requester,
      ...(input.requesterAliases ? { requesterAliases: input.requesterAliases } : {}),
    });
    tallies.set(name, result);
    return result;
  };
  const combined = combine(verdicts, tallyFor);
  switch (combined.kind) {
    case 'Decided':
      if (combined.decidedBy === DecidedBy.controller) {
        return final(base, 'Denied', DecidedBy.controller, unselected(combined.reason, input));
      }
      return {
        ...final(base, combined.outcome, combined.decidedBy, combined.reason),
        waitingOn: combined.waitingOn ?? [],
      };
    case 'Pending':
      return { ...base, phase: 'Pending', reason: combined.reason };
    case 'Escalated':
      return {
        ...base,
        phase: 'Escalated',
        reason: combined.reason,
        waitingOn: combined.waitingOn,
        ignoredApprovals: ignoredEverywhere(input.approvals, tallies),
      };
  }
}

function final(
  base: Omit<Resolution, 'phase' | 'decision' | 'reason'>,
  outcome: 'Approved' | 'Denied' | 'Expired',
  decidedBy: string,
  reason: string,
): Resolution {
  return { ...base, phase: outcome, decision: { outcome, decidedBy, reason }, reason };
}

function contextFor(policy: CompiledPolicy, input: DecideInput): PolicyInput {
  const context: Record<string, unknown> = {};
  const contextErrors: string[] = [];
  const contextUnavailable: string[] = [];
  for (const reference of resolveContextReferences(policy, input.request, input.now)) {
    if ('error' in reference) {
      contextErrors.push(`context ${reference.variable}: ${reference.error}`);
      continue;
    }
    const value = input.lookup(reference);
    const reason = unavailableReason(value);
    if (reason === undefined) context[reference.variable] = value ?? null;
    else contextUnavailable.push(`${reference.kind} ${reference.namespace}/${reference.name}: ${reason}`);
  }
  return { request: input.request, now: input.now, context, contextErrors, contextUnavailable };
}

function parametersProblem(request: ApprovalRequest): string | undefined {
  let serialized: string;
  try {
    serialized = JSON.stringify(request.spec.parameters ?? {});
  } catch (error) {
    // Only hand-made objects get here (a YAML alias that contains itself, a BigInt): the API server stores JSON.
    return `spec.parameters cannot be serialized as JSON: ${error instanceof Error ? error.message : String(error)}`;
  }
  const size = Buffer.byteLength(serialized);
  return size > MAX_PARAMETERS_BYTES
    ? `spec.parameters is ${size} bytes serialized, more than the limit of ${MAX_PARAMETERS_BYTES} bytes`
    : undefined;
}

/**
 * "no ApprovalPolicy … selects this request: payments selects actions payment, not db-migrate; …",
 * naming the enforcing policies only (a DryRun policy never decides, so it changes nothing here).
 */
function unselected(reason: string, input: DecideInput): string {
  const enforcing = input.policies.filter((policy) => policy.policy.spec.mode !== 'DryRun');
  const why = enforcing.slice(0, MAX_UNSELECTED_NAMED).map((policy) => {
    const not = whyNotSelected(policy.policy.spec.selector, input.request);
    return `${policy.name} ${not ?? 'selects it'}`;
  });
  const more = enforcing.length - why.length;
  if (more > 0) why.push(`and ${more} more`);
  return why.length > 0
    ? `${reason}: ${why.join('; ')}`
    : `${reason}: namespace ${input.request.metadata.namespace ?? ''} has no ApprovalPolicy in Enforce mode`;
}

/** Every entry when they fit; otherwise what each policy decided, so the why is never lost. */
function boundTrace(verdicts: readonly PolicyVerdict[]): Evaluation[] {
  const all = verdicts.flatMap((verdict) => verdict.trace);
  if (all.length <= MAX_EVALUATIONS) return all;
  return verdicts
    .map((verdict) => verdict.trace.at(-1))
    .filter((entry): entry is Evaluation => entry !== undefined)
    .slice(0, MAX_EVALUATIONS);
}

/** Answers that count for no escalating policy, each with why. */
function ignoredEverywhere(approvals: readonly JudgedApproval[], tallies: ReadonlyMap<string, Tally>) {
  const counted = new Set(
    [...tallies.values()].flatMap((t) =>
      [...t.approvals, ...(t.denial ? [t.denial] : [])].map((a) => a.approval),
    ),
  );
  const ignored: { approval: Approval; why: string }[] = [];
  for (const { approval } of approvals) {
    if (counted.has(approval)) continue;
    const why =
      tallies.get(approval.policy)?.ignored.find((entry) => entry.approval === approval)?.why ??
      `given to policy ${approval.policy}, which does not ask for approvals now`;
    ignored.push({ approval, why });
  }
  return ignored;
}
