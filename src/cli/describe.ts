import type { ApprovalRequest } from '../api/v1alpha1/approval-request.ts';
import { describeAnswerer } from '../policy/person.ts';

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
  const created = metadata.creationTimestamp ? ` at ${String(metadata.creationTimestamp)}` : '';
  return [
    `${metadata.namespace ?? ''}/${metadata.name ?? ''}: ${spec.action}${spec.resource ? ` ${spec.resource}` : ''}`,
    `  requested by ${spec.requester}${created}`,
    ...(spec.reason ? [`  reason: ${spec.reason}`] : []),
    ...(spec.parameters ? [`  parameters: ${JSON.stringify(spec.parameters)}`] : []),
  ];
}

function outcome(request: ApprovalRequest): string[] {
  const status = request.status;
  if (status?.decision) return [summarize(request), `  decided at ${status.decision.decidedAt}`];
  return [summarize(request), ...(status?.expiresAt ? [`  expires at ${status.expiresAt}`] : [])];
}

function why(request: ApprovalRequest): string[] {
  const evaluations = request.status?.evaluations ?? [];
  if (evaluations.length === 0) return section('Why', ['  no evaluation yet']);
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
    a.at,
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

/** `greenlight explain`: the request, the decision and the why-trace, for people. */
export function explain(request: ApprovalRequest): string {
  return [
    ...header(request),
    '',
    ...outcome(request),
    ...why(request),
    ...people(request),
    ...conditions(request),
  ].join('\n');
}
