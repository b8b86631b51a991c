/**
 * Micro-benchmark of the policy engine: compiling a policy, evaluating one compiled policy, and the
 * whole decision for a request in a namespace with three policies. Every policy is compiled once,
 * outside the timed loops (except in the compile benchmarks). Prints a Markdown table and writes
 * bench/results/policy-engine.json.
 *
 *   node bench/policy-engine.ts            full run (about half a minute)
 *   node bench/policy-engine.ts --quick    a few seconds, for a smoke test
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ApprovalPolicy, ApprovalPolicySpec } from '../src/api/v1alpha1/approval-policy.ts';
import type { ApprovalRequest } from '../src/api/v1alpha1/approval-request.ts';
import { compilePolicy, type CompiledPolicy } from '../src/policy/compile-policy.ts';
import { decide, type Resolution } from '../src/policy/decide.ts';
import { evaluatePolicy } from '../src/policy/evaluate-policy.ts';
import type { JudgedApproval, PolicyVerdict } from '../src/policy/verdict.ts';
import { machine, markdownTable, oneMinuteLoad } from './lib/stats.ts';
import { PAYMENTS_POLICY_SPEC, POLICY_NAME } from './lib/workload.ts';

interface Settings {
  /** Untimed running first, so that the JIT has optimized the code; also sizes the rounds. */
  readonly warmupMs: number;
  readonly rounds: number;
  /** Roughly how long one timed round runs. */
  readonly roundMs: number;
}

const FULL_RUN: Settings = { warmupMs: 500, rounds: 7, roundMs: 300 };
const QUICK_RUN: Settings = { warmupMs: 100, rounds: 3, roundMs: 50 };

const NAMESPACE = 'finance';
const NOW = new Date('2026-03-02T12:05:00Z');
const CREATED = '2026-03-02T12:00:00Z';

// ---- the namespace: three policies that all select a payment request ----

function policy(name: string, spec: ApprovalPolicySpec): ApprovalPolicy {
  return {
    apiVersion: 'greenlight.dev/v1alpha1',
    kind: 'ApprovalPolicy',
    metadata: { name, namespace: NAMESPACE, generation: 1 },
    spec,
  };
}

/** The typical policy of every benchmark: examples/payments' "payment below $500", with two more rules. */
const payments = policy(POLICY_NAME, PAYMENTS_POLICY_SPEC);

/** Every request in the namespace is refused while the change-freeze ConfigMap says so. */
const changeFreeze = policy('change-freeze', {
  context: [{ name: 'freeze', resource: { apiVersion: 'v1', kind: 'ConfigMap', name: 'change-freeze' } }],
  rules: [
    {
      name: 'frozen',
      when: "freeze != null && has(freeze.data) && has(freeze.data.frozen) && freeze.data.frozen == 'true'",
      decision: 'Deny',
      message: 'a change freeze is in force',
    },
  ],
  defaultDecision: 'Approve',
});

/** A stricter draft, tried out in DryRun: recorded in the trace, never deciding. */
const paymentsDraft = policy('payments-v2', {
  selector: { actions: ['payment'] },
  mode: 'DryRun',
  rules: [
    { name: 'over-limit', when: 'params.amount >= 50000', decision: 'Deny' },
    { name: 'below-250', when: "params.amount < 250 && params.currency == 'USD'", decision: 'Approve' },
  ],
  defaultDecision: 'Escalate',
  escalation: { approvers: { kubernetesGroups: ['approvers'] }, requiredApprovals: 1 },
});

const freezeConfigMap = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'change-freeze', namespace: NAMESPACE },
  data: { frozen: 'false' },
};

function payment(requester: string, parameters: Record<string, unknown>): ApprovalRequest {
  return {
    apiVersion: 'greenlight.dev/v1alpha1',
    kind: 'ApprovalRequest',
    metadata: { name: 'pay-42', namespace: NAMESPACE, creationTimestamp: CREATED },
    spec: { action: 'payment', resource: 'invoice/INV-42', requester, parameters },
  };
}

const smallPayment = payment('system:serviceaccount:ci:payments', {
  amount: 120,
  currency: 'USD',
  vendor: 'initech',
  invoice: 'INV-42',
});
const hugePayment = payment('system:serviceaccount:ci:payments', { amount: 250_000, currency: 'USD' });
const unmatchedPayment = payment('alice', { amount: 4200, currency: 'EUR', vendor: 'initech' });

const oneOfTwoApprovals: JudgedApproval[] = [
  {
    approval: {
      approver: 'bob',
      via: 'kubernetes',
      decision: 'Approve',
      at: '2026-03-02T12:03:00Z',
      policy: 'payments',
      policyGeneration: 1,
    },
    index: 0,
    person: 'bob',
    approverOf: new Set(['payments']),
  },
];

// ---- measuring ----

interface Benchmark {
  readonly name: string;
  /** One operation; its result is kept so that the work cannot be optimized away. */
  readonly run: () => unknown;
}

interface Measurement {
  readonly name: string;
  readonly rounds: number;
  readonly operationsPerRound: number;
  readonly medianOpsPerSecond: number;
  readonly minOpsPerSecond: number;
  readonly maxOpsPerSecond: number;
  readonly p50Micros: number;
  readonly p99Micros: number;
}

let keptResults = 0;
function keep(result: unknown): void {
  if (result !== undefined) keptResults++;
}

const elapsedMsSince = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

const toMicros = (ns: number): number => Math.round(ns / 10) / 100;

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: Float64Array, fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))] ?? 0;
}

/**
 * Warm-up (untimed), then timed rounds of the same number of operations. Throughput comes from each
 * round's total time; latency from timing every operation on its own (process.hrtime.bigint, whose
 * own cost is reported as the timer overhead).
 */
function measure(benchmark: Benchmark, settings: Settings): Measurement {
  const warmupStart = process.hrtime.bigint();
  let warmupOperations = 0;
  while (elapsedMsSince(warmupStart) < settings.warmupMs) {
    keep(benchmark.run());
    warmupOperations++;
  }
  const operationsPerRound = Math.max(
    10,
    Math.round((warmupOperations / settings.warmupMs) * settings.roundMs),
  );
  const latenciesNs = new Float64Array(operationsPerRound * settings.rounds);
  const roundRates: number[] = [];
  let sample = 0;
  for (let round = 0; round < settings.rounds; round++) {
    const roundStart = process.hrtime.bigint();
    for (let operation = 0; operation < operationsPerRound; operation++) {
      const start = process.hrtime.bigint();
      keep(benchmark.run());
      latenciesNs[sample++] = Number(process.hrtime.bigint() - start);
    }
    roundRates.push(operationsPerRound / (elapsedMsSince(roundStart) / 1000));
  }
  latenciesNs.sort();
  return {
    name: benchmark.name,
    rounds: settings.rounds,
    operationsPerRound,
    medianOpsPerSecond: Math.round(median(roundRates)),
    minOpsPerSecond: Math.round(Math.min(...roundRates)),
    maxOpsPerSecond: Math.round(Math.max(...roundRates)),
    p50Micros: toMicros(percentile(latenciesNs, 0.5)),
    p99Micros: toMicros(percentile(latenciesNs, 0.99)),
  };
}

/** What timing one operation costs by itself: the median of many empty timings, in nanoseconds. */
function timerOverheadNs(): number {
  const samples: number[] = [];
  for (let i = 0; i < 10_000; i++) {
    const start = process.hrtime.bigint();
    samples.push(Number(process.hrtime.bigint() - start));
  }
  return median(samples);
}

// ---- checking that each benchmark takes the path it is named after ----

function expectVerdict(verdict: PolicyVerdict, decision: string, rule: string | undefined): PolicyVerdict {
  if (verdict.decision !== decision || verdict.rule !== rule) {
    throw new Error(
      `benchmark set-up: expected ${decision} by ${rule ?? 'default'}, got ${verdict.decision} by ${verdict.rule ?? 'default'}: ${verdict.message}`,
    );
  }
  return verdict;
}

function expectPhase(resolution: Resolution, phase: Resolution['phase']): Resolution {
  if (resolution.phase !== phase) {
    throw new Error(`benchmark set-up: expected ${phase}, got ${resolution.phase}: ${resolution.reason}`);
  }
  return resolution;
}

function benchmarks(): Benchmark[] {
  const namespacePolicies = [payments, changeFreeze, paymentsDraft];
  const compiled = namespacePolicies.map(compilePolicy);
  const problems = compiled.flatMap((c) => c.problems.map((p) => `${c.name}: ${p.field}: ${p.message}`));
  if (problems.length > 0) throw new Error(`benchmark set-up: invalid policies: ${problems.join('; ')}`);
  const [compiledPayments] = compiled as [CompiledPolicy, ...CompiledPolicy[]];

  const evaluatePayments = (request: ApprovalRequest): PolicyVerdict =>
    evaluatePolicy(compiledPayments, { request, now: NOW, context: {} });
  const decideInNamespace = (request: ApprovalRequest, approvals: readonly JudgedApproval[]): Resolution =>
    decide({ request, policies: compiled, lookup: () => freezeConfigMap, approvals, now: NOW });

  expectVerdict(evaluatePayments(smallPayment), 'Approve', 'below-500');
  expectVerdict(evaluatePayments(hugePayment), 'Deny', 'over-limit');
  expectVerdict(evaluatePayments(unmatchedPayment), 'Escalate', undefined);
  expectPhase(decideInNamespace(smallPayment, []), 'Approved');
  expectPhase(decideInNamespace(unmatchedPayment, oneOfTwoApprovals), 'Escalated');

  return [
    { name: 'compilePolicy: payments (4 rules)', run: () => compilePolicy(payments) },
    { name: 'compilePolicy: change-freeze (1 rule, 1 context)', run: () => compilePolicy(changeFreeze) },
    { name: 'compilePolicy: payments-v2 (2 rules, DryRun)', run: () => compilePolicy(paymentsDraft) },
    {
      name: 'evaluatePolicy: $120 USD, approved by rule 2',
      run: () => evaluatePayments(smallPayment),
    },
    {
      name: 'evaluatePolicy: $250,000, denied by rule 1',
      run: () => evaluatePayments(hugePayment),
    },
    {
      name: 'evaluatePolicy: 4,200 EUR, no rule matches (4 rules run)',
      run: () => evaluatePayments(unmatchedPayment),
    },
    {
      name: 'decide, 3 policies: $120 USD → Approved',
      run: () => decideInNamespace(smallPayment, []),
    },
    {
      name: 'decide, 3 policies: 4,200 EUR, 1 of 2 approvals → Escalated',
      run: () => decideInNamespace(unmatchedPayment, oneOfTwoApprovals),
    },
  ];
}

// ---- reporting ----

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const micros = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });

function measurementTable(measurements: readonly Measurement[]): string {
  return markdownTable(
    ['benchmark', 'median ops/s', 'ops/s range (rounds)', 'p50 µs', 'p99 µs'],
    measurements.map((m) => [
      m.name,
      integer.format(m.medianOpsPerSecond),
      `${integer.format(m.minOpsPerSecond)}–${integer.format(m.maxOpsPerSecond)}`,
      micros.format(m.p50Micros),
      micros.format(m.p99Micros),
    ]),
  );
}

function main(): void {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
  const quick = values.quick;
  const settings = quick ? QUICK_RUN : FULL_RUN;
  const host = machine();
  console.log(`# Policy engine micro-benchmark${quick ? ' (--quick)' : ''}\n`);
  console.log(
    `${host.os}; ${host.cpuCount} × ${host.cpuModel}; Node ${host.node}; ` +
      `warm-up ${settings.warmupMs} ms, ${settings.rounds} rounds of ~${settings.roundMs} ms each\n`,
  );

  const loadBefore = oneMinuteLoad();
  const overheadNs = timerOverheadNs();
  const measurements = benchmarks().map((benchmark) => {
    process.stderr.write(`  ${benchmark.name}…\n`);
    return measure(benchmark, settings);
  });
  console.log(measurementTable(measurements));
  const loadAfter = oneMinuteLoad();
  console.log(
    `\nLatencies include about ${integer.format(overheadNs)} ns of timer overhead per operation; ` +
      `${integer.format(keptResults)} results kept. One-minute load average: ${loadBefore} before, ` +
      `${loadAfter} after (on ${host.cpuCount} CPUs: above that, other processes competed for them).`,
  );

  const results = new URL('results/', import.meta.url);
  mkdirSync(results, { recursive: true });
  const file = new URL('policy-engine.json', results);
  const report = {
    benchmark: 'policy-engine',
    generatedAt: new Date().toISOString(),
    quick,
    settings,
    machine: host,
    loadAverage1m: { before: loadBefore, after: loadAfter },
    timerOverheadNs: overheadNs,
    measurements,
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nWrote ${fileURLToPath(file)}`);
}

main();
