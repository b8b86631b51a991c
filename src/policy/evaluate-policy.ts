import type { RuleDecision } from '../api/v1alpha1/approval-policy.ts';
import type { ApprovalRequest, Evaluation, EvaluationResult } from '../api/v1alpha1/approval-request.ts';
import { evaluate, prepareBindings, typeMismatches } from './cel/index.ts';
import { formatProblem, type CompiledContext, type CompiledPolicy } from './compile-policy.ts';
import type { PolicyVerdict } from './verdict.ts';

/** Which object a context entry names for one request (its name may come from CEL). */
export type ContextReference =
  | {
      readonly variable: string;
      readonly apiVersion: string;
      readonly kind: string;
      readonly namespace: string;
      readonly name: string;
    }
  | { readonly variable: string; readonly error: string };

export function resolveContextReferences(
  compiled: CompiledPolicy,
  request: ApprovalRequest,
  now: Date,
): ContextReference[] {
  const bindings = prepareBindings({ request, now, context: {} });
  return compiled.context.map((entry: CompiledContext): ContextReference => {
    const namespace = entry.namespace ?? compiled.namespace;
    const target = { variable: entry.name, apiVersion: entry.apiVersion, kind: entry.kind, namespace };
    if (typeof entry.objectName === 'string') return { ...target, name: entry.objectName };
    const result = evaluate(entry.objectName, bindings);
    if (!result.ok) return { variable: entry.name, error: `nameExpression failed: ${result.error.message}` };
    return { ...target, name: result.value };
  });
}

const unavailable: unique symbol = Symbol('context object unavailable');

/** What a context lookup returns when the object cannot be read now (as opposed to not existing). */
export interface ContextUnavailable {
  readonly [unavailable]: string;
}

export function contextUnavailable(reason: string): ContextUnavailable {
  return { [unavailable]: reason };
}

export function unavailableReason(value: unknown): string | undefined {
  return typeof value === 'object' && value !== null && unavailable in value
    ? (value as ContextUnavailable)[unavailable]
    : undefined;
}

export interface PolicyInput {
  readonly request: ApprovalRequest;
  readonly now: Date;
  /** The policy's context objects by variable name; null (or absent) when the object does not exist. */
  readonly context: Readonly<Record<string, unknown>>;
  /** Context entries whose object could not be named (a failing nameExpression). */
  readonly contextErrors?: readonly string[];
  /** Context objects that could not be read right now (forbidden, API down): the policy waits. */
  readonly contextUnavailable?: readonly string[];
}

/**
 * Evaluates one policy: the first rule whose `when` is true decides, else the default decision. The
 * trace lists each rule looked at. A rule that fails (CEL error, cost limit) never approves: the
 * policy escalates to its people when it has an escalation, else denies. An invalid policy holds.
 */
export function evaluatePolicy(compiled: CompiledPolicy, input: PolicyInput): PolicyVerdict {
  const dryRun = compiled.policy.spec.mode === 'DryRun';
  const trace: Evaluation[] = [];
  const entry = (result: EvaluationResult, message: string, rule?: string): Evaluation => ({
    policy: compiled.name,
    ...(rule === undefined ? {} : { rule }),
    result,
    message,
    policyGeneration: compiled.generation,
    ...(dryRun ? { dryRun: true } : {}),
  });
  const verdict = (decision: RuleDecision, message: string, rule?: string): PolicyVerdict => ({
    policy: compiled.name,
    mode: dryRun ? 'DryRun' : 'Enforce',
    decision,
    ...(rule === undefined ? {} : { rule }),
    message,
    requiredApprovals: compiled.requiredApprovals,
    approvers: compiled.policy.spec.escalation?.approvers,
    trace,
  });
  const failed = (message: string, rule?: string): PolicyVerdict => {
    const decision = compiled.policy.spec.escalation ? 'Escalate' : 'Deny';
    trace.push(entry('Error', message, rule));
    return verdict(
      decision,
      `${message}; ${decision === 'Escalate' ? 'escalated to people' : 'denied'} because rules could not decide`,
      rule,
    );
  };

  if (compiled.problems.length > 0) {
    const message = `policy is invalid, it decides nothing until fixed: ${compiled.problems.map(formatProblem).join('; ')}`;
    trace.push(entry('Error', message));
    return verdict('Hold', message);
  }
  if (input.contextErrors?.length) return failed(input.contextErrors.join('; '));
  if (input.contextUnavailable?.length) {
    const message = `waiting for context: ${input.contextUnavailable.join('; ')}`;
    trace.push(entry('Error', message));
    return verdict('Hold', message);
  }

  const bindings = prepareBindings({ request: input.request, now: input.now, context: input.context });
  for (const rule of compiled.rules) {
    if (rule.when) {
      const result = evaluate(rule.when, bindings);
      if (!result.ok) return failed(`rule ${rule.name} failed: ${result.error.message}`, rule.name);
      if (!result.value) {
        const notes = typeMismatches(rule.when.parameterComparisons, input.request.spec.parameters);
        trace.push(entry('NoMatch', ['when is false', ...notes].join('; '), rule.name));
        continue;
      }
    }
    const message = rule.message ?? `rule ${rule.name} matched`;
    trace.push(entry(rule.decision, message, rule.name));
    return verdict(rule.decision, message, rule.name);
  }
  const message = `no rule matched; default decision ${compiled.defaultDecision}`;
  trace.push(entry(compiled.defaultDecision, message));
  return verdict(compiled.defaultDecision, message);
}
