import type { ApprovalPolicy } from '../api/v1alpha1/approval-policy.ts';
import type { Approval, ApprovalRequest, Evaluation, Phase } from '../api/v1alpha1/approval-request.ts';
import {
  compilePolicy,
  formatProblem,
  type CompiledPolicy,
  type PolicyProblem,
} from '../policy/compile-policy.ts';
import { decide, type Resolution } from '../policy/decide.ts';
import { personOf } from '../policy/person.ts';
import { escalatedMessage } from '../policy/progress.ts';
import type { JudgedApproval } from '../policy/verdict.ts';
import type { LoadedPolicy, LoadedSuite } from './load.ts';
import type { PolicyTestCase, SampleApproval } from './suite.ts';

export interface Observed {
  readonly phase: Phase;
  readonly decidedBy?: string;
  readonly reason: string;
}

export interface CaseResult {
  readonly name: string;
  readonly passed: boolean;
  readonly expected: PolicyTestCase['expect'];
  readonly observed: Observed;
  /** One line per expectation that did not hold. */
  readonly mismatches: readonly string[];
  readonly evaluations: readonly Evaluation[];
}

export interface SuiteResult {
  readonly file: string;
  readonly name: string;
  readonly cases: readonly CaseResult[];
  /**
   * Policies that do not compile (they would be Ready=False in a cluster), each with its place in its
   * file: the suite fails, and its cases are not run (each would only repeat the error).
   */
  readonly problems: readonly string[];
  /** Cases not run because of the problems. */
  readonly notRun: number;
}

interface KubernetesObject {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: unknown; namespace?: unknown };
}

/** Runs every case of a suite through the same decide() the controller uses. Pure. */
export function runSuite(suite: LoadedSuite, runTime: Date): SuiteResult {
  const { test } = suite;
  const namespace = test.namespace ?? suite.policies[0]?.policy.metadata.namespace ?? 'default';
  const loaded = suite.policies
    .map((entry) => ({ ...entry, policy: withDefaults(entry.policy, namespace) }))
    .filter((entry) => entry.policy.metadata.namespace === namespace)
    .map((entry) => ({ ...entry, compiled: compilePolicy(entry.policy) }));
  const compiled = loaded.map((entry) => entry.compiled);
  const problems = loaded.flatMap((entry) =>
    entry.compiled.problems.map((problem) => placedProblem(entry, problem)),
  );
  if (problems.length > 0) {
    return { file: suite.file, name: test.metadata.name, cases: [], problems, notRun: test.cases.length };
  }
  const cases = test.cases.map((testCase) => {
    const now = new Date(testCase.now ?? test.now ?? runTime.toISOString());
    return runCase(testCase, { namespace, now, compiled, contextObjects: suite.contextObjects });
  });
  return { file: suite.file, name: test.metadata.name, cases, problems, notRun: 0 };
}

/** `policy.yaml:11:38: ApprovalPolicy migrations: spec.rules[0].when: undeclared reference to 'parms' …`. */
function placedProblem(entry: LoadedPolicy & { compiled: CompiledPolicy }, problem: PolicyProblem): string {
  const inside = problem.line === undefined ? undefined : { line: problem.line, column: problem.column ?? 1 };
  const position = entry.locate(fieldPathOf(problem.field), inside ? { inside } : {});
  const kind = `ApprovalPolicy ${entry.compiled.name}`;
  return position
    ? `${entry.file}:${position.line}:${position.column}: ${kind}: ${problem.field}: ${problem.message}`
    : `${entry.file}: ${kind}: ${formatProblem(problem)}`;
}

/** `spec.rules[0].when` → ['spec', 'rules', 0, 'when']. */
function fieldPathOf(field: string): (string | number)[] {
  return field
    .split(/[.[\]]/)
    .filter(Boolean)
    .map((part) => (/^[0-9]+$/.test(part) ? Number(part) : part));
}

function withDefaults(policy: ApprovalPolicy, namespace: string): ApprovalPolicy {
  return {
    ...policy,
    metadata: { generation: 1, ...policy.metadata, namespace: policy.metadata.namespace ?? namespace },
  };
}

interface CaseEnvironment {
  readonly namespace: string;
  readonly now: Date;
  readonly compiled: readonly CompiledPolicy[];
  readonly contextObjects: readonly unknown[];
}

function runCase(testCase: PolicyTestCase, environment: CaseEnvironment): CaseResult {
  const { namespace, now, compiled } = environment;
  const metadata = testCase.request.metadata ?? {};
  const request: ApprovalRequest = {
    apiVersion: 'greenlight.dev/v1alpha1',
    kind: 'ApprovalRequest',
    metadata: {
      name: metadata.name ?? 'sample',
      namespace,
      uid: 'sample',
      creationTimestamp: metadata.creationTimestamp ?? now.toISOString(),
      ...(metadata.labels ? { labels: metadata.labels } : {}),
      ...(metadata.annotations ? { annotations: metadata.annotations } : {}),
    },
    spec: testCase.request.spec,
  };
  const resolution = decide({
    request,
    policies: compiled,
    now,
    approvals: judge(testCase.approvals ?? [], compiled, now),
    lookup: (reference) =>
      environment.contextObjects.find((object) => {
        const candidate = object as KubernetesObject;
        return (
          candidate.apiVersion === reference.apiVersion &&
          candidate.kind === reference.kind &&
          candidate.metadata?.name === reference.name &&
          (candidate.metadata.namespace ?? namespace) === reference.namespace
        );
      }) ?? null,
  });
  const observed = observe(resolution);
  const mismatches = compare(testCase.expect, observed);
  return {
    name: testCase.name,
    passed: mismatches.length === 0,
    expected: testCase.expect,
    observed,
    mismatches,
    evaluations: resolution.evaluations,
  };
}

/**
 * Offline, a person approves for a policy when the policy lists them (or one of their groups). In a
 * cluster the controller also asks the API server whether they may `approve` the policy. A sample
 * answer stands for one answer to each policy with an escalation, unless it names its policy.
 */
function judge(
  samples: readonly SampleApproval[],
  policies: readonly CompiledPolicy[],
  now: Date,
): JudgedApproval[] {
  const judged: JudgedApproval[] = [];
  for (const sample of samples) {
    const via = sample.via ?? 'kubernetes';
    const answered = policies.filter((policy) =>
      sample.policy === undefined
        ? policy.policy.spec.escalation !== undefined
        : policy.name === sample.policy,
    );
    for (const policy of answered) {
      const approval: Approval = {
        approver: sample.approver,
        via,
        decision: sample.decision,
        at: sample.at ?? now.toISOString(),
        policy: policy.name,
        policyGeneration: policy.generation,
        ...(via === 'slack' && sample.kubernetesUser ? { kubernetesUser: sample.kubernetesUser } : {}),
        ...(sample.comment ? { comment: sample.comment } : {}),
      };
      judged.push({
        approval,
        index: judged.length,
        person: personOf(approval),
        approverOf: new Set(lists(policy, via, sample) ? [policy.name] : []),
      });
    }
  }
  return judged;
}

function lists(policy: CompiledPolicy, via: 'kubernetes' | 'slack', sample: SampleApproval): boolean {
  const approvers = policy.policy.spec.escalation?.approvers;
  if (!approvers) return false;
  const [users, groups] =
    via === 'kubernetes'
      ? [approvers.kubernetesUsers, approvers.kubernetesGroups]
      : [approvers.slackUsers, approvers.slackUserGroups];
  if (users?.includes(sample.approver)) return true;
  return (sample.groups ?? []).some((group) => groups?.includes(group) === true);
}

/** What a case shows: the same words the request's status would say in a cluster. */
function observe(resolution: Resolution): Observed {
  return {
    phase: resolution.phase,
    ...(resolution.decision ? { decidedBy: resolution.decision.decidedBy } : {}),
    reason:
      resolution.phase === 'Escalated'
        ? `${escalatedMessage(resolution)}; ${resolution.reason}`
        : resolution.reason,
  };
}

function compare(expected: PolicyTestCase['expect'], observed: Observed): string[] {
  const mismatches: string[] = [];
  if (expected.phase !== observed.phase) {
    mismatches.push(`phase: expected ${expected.phase}, got ${observed.phase}`);
  }
  if (expected.decidedBy !== undefined && expected.decidedBy !== observed.decidedBy) {
    mismatches.push(`decidedBy: expected ${expected.decidedBy}, got ${observed.decidedBy ?? '(undecided)'}`);
  }
  if (expected.reason !== undefined && !observed.reason.includes(expected.reason)) {
    mismatches.push(`reason: expected it to contain "${expected.reason}", got "${observed.reason}"`);
  }
  return mismatches;
}
