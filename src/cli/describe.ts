import type { ApprovalPolicy } from '../api/v1alpha1/approval-policy.ts';
import type { ApprovalRequest } from '../api/v1alpha1/approval-request.ts';
import { rfc3339 } from '../api/v1alpha1/schema.ts';
import { describeAnswerer } from '../policy/person.ts';
import { whyNotSelected } from '../policy/selector.ts';

/** One line for a phase change or a final decision: `Approved by policy:payments/below-500: below $500`. */
export function summarize(request: ApprovalRequest): string {
  const status = request.status;
  const phase = status?.phase ?? 'Pending';
  if (status?.decision) return `${phase} by ${status.decision.decidedBy}: ${status.decision.reason}`;
  const condition = status?.conditions?.find(
    (c) => c.type === (phase === 'Escalated' ? 'Escalated' : 'Decided'),
  );
  return condition?.message ? `${phase}: ${condition.message}` : phase;
}

function table(rows: readonly (readonly string[])[], indent = '  '): string[] {
  const widths = rows.reduce<number[]>(
    (max, row) => row.map((cell, i) => Math.max(max[i] ?? 0, cell.length)),
    [],
  );
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
  );
}

function section(title: string, lines: readonly string[]): string[] {
  return lines.length > 0 ? ['', `${title}:`, ...lines] : [];
}

function header(request: ApprovalRequest): string[] {
  const { spec, metadata } = request;
  const created = metadata.creationTimestamp ? ` at ${rfc3339(metadata.creationTimestamp)}` : '';
  return [
    `${metadata.namespace ?? ''}/${metadata.name ?? ''}: ${spec.action}${spec.resource ? ` ${spec.resource}` : ''}`,
    `  requested by ${spec.requester ?? '(nobody: no requester)'}${created}`,
    ...(spec.reason ? [`  reason: ${spec.reason}`] : []),
    ...(spec.parameters ? [`  parameters: ${JSON.stringify(spec.parameters)}`] : []),
  ];
}

function outcome(request: ApprovalRequest): string[] {
  const status = request.status;
  if (status?.decision) return [summarize(request), `  decided at ${rfc3339(status.decision.decidedAt)}`];
  return [summarize(request), ...(status?.expiresAt ? [`  expires at ${rfc3339(status.expiresAt)}`] : [])];
}

/** While people are asked: each escalating policy's progress and approvers, and what did not count. */
function waiting(request: ApprovalRequest): string[] {
  const escalated = request.status?.conditions?.find((c) => c.type === 'Escalated');
  if (escalated?.status !== 'True') return [];
  return section(
    'Waiting for',
    escalated.message.split('; ').map((part) => `  ${part}`),
  );
}

/**
 * The namespace's policies and whether each selects the request (read live, when the caller may list
 * them): why a request nobody evaluated was not selected.
 */
function selection(request: ApprovalRequest, policies: readonly ApprovalPolicy[] | undefined): string[] {
  const consulted = (request.status?.evaluations ?? []).length > 0;
  if (policies === undefined || consulted) return [];
  const namespace = request.metadata.namespace ?? '';
  if (policies.length === 0) return section(`Policies in ${namespace}`, ['  none']);
  const rows = policies.map((policy) => {
    const not = whyNotSelected(policy.spec.selector, request);
    return [policy.metadata.name ?? '', policy.spec.mode ?? 'Enforce', not ? 'no' : 'yes', not ?? ''];
  });
  return section(`Policies in ${namespace}`, table([['POLICY', 'MODE', 'SELECTS', 'WHY NOT'], ...rows]));
}

function why(request: ApprovalRequest): string[] {
  const evaluations = request.status?.evaluations ?? [];
  if (evaluations.length === 0) {
    const said = request.status?.decision ? 'no policy selected this request' : 'no evaluation yet';
    return section('Why', [`  ${said}`]);
  }
  const rows = evaluations.map((e) => [
    e.policy,
    e.rule ?? '(default)',
    e.dryRun ? `${e.result} (dry run)` : e.result,
    e.message,
  ]);
  return section('Why', table([['POLICY', 'RULE', 'RESULT', 'MESSAGE'], ...rows]));
}

function people(request: ApprovalRequest): string[] {
  const approvals = request.status?.approvals ?? [];
  if (approvals.length === 0) return [];
  const rows = approvals.map((a) => [
    describeAnswerer(a),
    a.via,
    a.decision,
    `${a.policy} (generation ${String(a.policyGeneration)})`,
    rfc3339(a.at),
    a.comment ?? '',
  ]);
  return section('People', table([['WHO', 'VIA', 'ANSWER', 'FOR POLICY', 'AT', 'COMMENT'], ...rows]));
}

function conditions(request: ApprovalRequest): string[] {
  const rows = (request.status?.conditions ?? []).map((c) => [c.type, c.status, c.reason, c.message]);
  return rows.length === 0
    ? []
    : section('Conditions', table([['TYPE', 'STATUS', 'REASON', 'MESSAGE'], ...rows]));
}

/**
 * `greenlight explain`: the request, the decision and the why-trace, for people; with the namespace's
 * policies (when the caller may read them), why none selected a request that no policy evaluated.
 */
export function explain(request: ApprovalRequest, policies?: readonly ApprovalPolicy[]): string {
  return [
    ...header(request),
    '',
    ...outcome(request),
    ...waiting(request),
    ...why(request),
    ...selection(request, policies),
    ...people(request),
    ...conditions(request),
  ].join('\n');
}
