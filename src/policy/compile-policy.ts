import {
  DEFAULT_ESCALATION_TIMEOUT,
  type ApprovalPolicy,
  type ApprovalPolicySpec,
  type ContextEntry,
  type Rule,
  type RuleDecision,
} from '../api/v1alpha1/approval-policy.ts';
import { parseDuration } from './duration.ts';
import { compileExpression, variableNameProblem, type CompiledExpression } from './cel/index.ts';

/** A problem that makes a policy invalid: where it is, and what is wrong. */
export interface PolicyProblem {
  /** The field, as kubectl would name it: `spec.rules[1].when`. */
  readonly field: string;
  readonly message: string;
  /** 1-based position inside a CEL expression. */
  readonly line?: number;
  readonly column?: number;
}

export interface CompiledRule {
  readonly name: string;
  readonly decision: RuleDecision;
  readonly message?: string;
  /** Absent: the rule always matches. */
  readonly when?: CompiledExpression<'bool'>;
}

export interface CompiledContext {
  readonly name: string;
  readonly apiVersion: string;
  readonly kind: string;
  /** Absent: the policy's namespace. */
  readonly namespace?: string;
  readonly objectName: string | CompiledExpression<'string'>;
}

/** A policy with every expression compiled; `problems` non-empty means it is invalid and decides nothing. */
export interface CompiledPolicy {
  readonly policy: ApprovalPolicy;
  readonly name: string;
  readonly namespace: string;
  readonly generation: number;
  readonly rules: readonly CompiledRule[];
  readonly context: readonly CompiledContext[];
  readonly defaultDecision: RuleDecision;
  readonly requiredApprovals: number;
  readonly allowSelfApproval: boolean;
  readonly problems: readonly PolicyProblem[];
}

export function formatProblem(problem: PolicyProblem): string {
  const position = problem.line === undefined ? '' : ` (line ${problem.line}, column ${problem.column ?? 0})`;
  return `${problem.field}${position}: ${problem.message}`;
}

/** Compiles every CEL expression of a policy once; never throws, whatever the policy says. */
export function compilePolicy(policy: ApprovalPolicy): CompiledPolicy {
  const spec = policy.spec;
  const problems: PolicyProblem[] = [];
  const contextNames = (spec.context ?? []).map((entry) => entry.name);
  const context = (spec.context ?? []).map((entry, index) =>
    compileContext(entry, `spec.context[${index}]`, problems),
  );
  const rules = (spec.rules ?? []).map((rule, index) =>
    compileRule(rule, contextNames, `spec.rules[${index}]`, problems),
  );
  problems.push(...structuralProblems(policy));
  return {
    policy,
    name: policy.metadata.name ?? '',
    namespace: policy.metadata.namespace ?? '',
    generation: policy.metadata.generation ?? 1,
    rules,
    context,
    ...decisionDefaults(spec),
    problems,
  };
}

/** The contract's defaults for what the API server leaves unset. */
function decisionDefaults(
  spec: ApprovalPolicySpec,
): Pick<CompiledPolicy, 'defaultDecision' | 'requiredApprovals' | 'allowSelfApproval'> {
  const escalation = spec.escalation;
  return {
    defaultDecision: spec.defaultDecision ?? (escalation ? 'Escalate' : 'Deny'),
    requiredApprovals: escalation?.requiredApprovals ?? 1,
    allowSelfApproval: escalation?.allowSelfApproval ?? false,
  };
}

function compileContext(entry: ContextEntry, field: string, problems: PolicyProblem[]): CompiledContext {
  const nameProblem = variableNameProblem(entry.name);
  if (nameProblem) problems.push({ field: `${field}.name`, message: nameProblem });
  const { resource } = entry;
  let objectName: CompiledContext['objectName'] = resource.name ?? '';
  if (resource.nameExpression !== undefined) {
    // A name expression cannot read other context objects: they are what it helps to find.
    const compiled = compileExpression(resource.nameExpression, { variables: [], expect: 'string' });
    if (compiled.ok) objectName = compiled.program;
    else problems.push({ field: `${field}.resource.nameExpression`, ...compiled.error });
  } else if (!resource.name) {
    problems.push({ field: `${field}.resource`, message: 'set exactly one of name and nameExpression' });
  }
  return {
    name: entry.name,
    apiVersion: resource.apiVersion,
    kind: resource.kind,
    ...(resource.namespace ? { namespace: resource.namespace } : {}),
    objectName,
  };
}

function compileRule(
  rule: Rule,
  contextNames: readonly string[],
  field: string,
  problems: PolicyProblem[],
): CompiledRule {
  const base = {
    name: rule.name,
    decision: rule.decision,
    ...(rule.message ? { message: rule.message } : {}),
  };
  if (rule.when === undefined) return base;
  const compiled = compileExpression(rule.when, { variables: contextNames, expect: 'bool' });
  if (compiled.ok) return { ...base, when: compiled.program };
  problems.push({ field: `${field}.when`, ...compiled.error });
  return base;
}

/**
 * What the API server's schema also refuses; checked again because `greenlight test` reads policies
 * from files, and an object stored before a CRD upgrade may predate a rule.
 */
function structuralProblems(policy: ApprovalPolicy): PolicyProblem[] {
  const spec = policy.spec;
  const problems: PolicyProblem[] = [];
  const seen = new Set<string>();
  (spec.rules ?? []).forEach((rule, index) => {
    if (seen.has(rule.name))
      problems.push({ field: `spec.rules[${index}].name`, message: `duplicate rule name "${rule.name}"` });
    seen.add(rule.name);
  });
  const escalates =
    spec.defaultDecision === 'Escalate' || (spec.rules ?? []).some((r) => r.decision === 'Escalate');
  if (escalates && !spec.escalation) {
    problems.push({
      field: 'spec.escalation',
      message: 'escalation is required when a rule or defaultDecision escalates',
    });
  }
  const timeout = spec.escalation?.timeout ?? DEFAULT_ESCALATION_TIMEOUT;
  if (parseDuration(timeout) === undefined) {
    problems.push({
      field: 'spec.escalation.timeout',
      message: `"${timeout}" is not a duration such as 30m or 24h`,
    });
  }
  return problems;
}
