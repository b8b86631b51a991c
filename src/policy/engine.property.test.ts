import fc, { type Arbitrary } from 'fast-check';
import { describe, expect, it } from 'vitest';
import type {
  ApprovalPolicy,
  ApprovalPolicySpec,
  ContextEntry,
  Escalation,
  Rule,
  RuleDecision,
  Selector,
} from '../api/v1alpha1/approval-policy.ts';
import { isFinal, type Approval, type ApprovalRequest } from '../api/v1alpha1/approval-request.ts';
import { API_VERSION } from '../api/v1alpha1/schema.ts';
import { compileExpression, evaluate, prepareBindings } from './cel/index.ts';
import { compilePolicy } from './compile-policy.ts';
import { decide, MAX_EVALUATIONS, type Resolution } from './decide.ts';
import { personOf } from './person.ts';
import type { JudgedApproval } from './verdict.ts';

// Properties of the whole engine (compilePolicy, then decide) that hold whatever the input. The
// generators mix realistic values with garbage, so that both the deciding paths and the error paths
// are exercised; fast-check prints the seed and the shrunk counterexample of any failure.

const BASE_TIME = Date.parse('2026-03-02T12:00:00Z');
const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const MAX_POLICIES = 6;
const NAMESPACE = 'billing';

const policyName = (index: number): string => `policy-${index}`;
const dryRunCopyName = (name: string): string => `${name}-dry-run`;
const POLICY_NAMES = Array.from({ length: MAX_POLICIES }, (_, index) => policyName(index));
const APPROVABLE_POLICY_NAMES = [...POLICY_NAMES, ...POLICY_NAMES.map(dryRunCopyName), 'deny-all', 'failing'];

const CONTEXT_NAMES = ['staging', 'freeze', 'quota'] as const;
const PEOPLE = ['alice', 'bob', 'carol', 'U024BE7LH'] as const;
const REQUESTERS = [
  'system:serviceaccount:ci:deployer',
  'system:serviceaccount:billing:payer',
  'alice',
] as const;
const ACTIONS = ['payment', 'deploy', 'db-migrate'] as const;
const DECISIONS = ['Approve', 'Deny', 'Escalate', 'Hold'] as const satisfies readonly RuleDecision[];

/** Expressions that compile without context variables; most read parameters a request may lack. */
const PARAMS_WHEN = [
  "params.amount < 500 && params.currency == 'USD'",
  'params.amount >= 100000',
  "request.spec.requester.startsWith('system:serviceaccount:ci:')",
  "request.spec.action == 'deploy' && params.environment == 'production'",
  'has(params.amount) && params.amount > 0',
  "'urgent' in params.tags",
  'params.items.all(i, i.price < 100)',
  "params.items.exists_one(i, i.sku.startsWith('A-'))",
  'params.items.map(i, i.price).filter(p, p > 10).size() <= 1',
  'size(params) > 3',
  "now - timestamp(request.metadata.creationTimestamp) > duration('1h')",
  "now.getHours('UTC') >= 9 && now.getHours('UTC') < 17",
  "params.version.matches('^v[0-9]+[.][0-9]+[.][0-9]+$')",
  "request.metadata.labels['team'] == 'payments'",
  'type(params.amount) == int || type(params.amount) == double',
  'double(params.amount) * 1.2 < 1e300',
  "string(params.amount) == '500'",
  "params.environment.lowerAscii().contains('prod')",
  'params.tags.map(t, size(t)).exists(n, n > 10)',
  "params.tags.filter(t, t != '').size() == 0",
  '!has(params.reason) || size(params.reason) < 200',
  'params.nothing == null',
  'int(params.count) > 2',
  'true',
  'false',
] as const;

/** Expressions that need the policy to declare the context variables they read. */
const CONTEXT_WHEN = [
  "staging != null && now - timestamp(staging.metadata.annotations['greenlight.dev/green-since']) >= duration('24h')",
  "freeze == null || freeze.data.frozen != 'true'",
  'quota != null && int(quota.data.remaining) > 0 && params.amount < int(quota.data.remaining)',
] as const;

/** Expressions that are almost always false without failing: they make long traces of NoMatch. */
const RARELY_TRUE_WHEN = [
  'false',
  'has(params.never_there)',
  "request.spec.action == 'never'",
  "now < timestamp('1970-01-01T00:00:00Z')",
] as const;

const MISSING_PARAMETERS = ['missing_field', 'other_missing', 'missing_list'] as const;

/** Expressions that compile but fail at runtime on parameters without MISSING_PARAMETERS. */
const FAILING_WHEN = [
  'params.missing_field > 1',
  "params.missing_field == 'yes' || params.other_missing",
  "params.missing_field.startsWith('x')",
  'size(params.missing_list) > 0',
  'params.missing_list.all(x, x > 0)',
  'int(params.missing_field) < 10',
  'params.missing_field',
  '[1, 2][params.missing_field] == 1',
] as const;

const CEL_TOKENS = [
  'params',
  'request',
  'now',
  'staging',
  '.',
  'amount',
  'currency',
  'tags',
  'spec',
  'requester',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  ',',
  ':',
  '?',
  '&&',
  '||',
  '!',
  '-',
  '+',
  '*',
  '/',
  '%',
  '==',
  '!=',
  '<',
  '<=',
  '>=',
  'in',
  'has',
  'size',
  'all',
  'exists',
  'map',
  'filter',
  'matches',
  'startsWith',
  'int',
  'uint',
  'double',
  'string',
  'timestamp',
  'duration',
  'type',
  'x',
  '0',
  '1',
  '-1',
  '1.5',
  '1e308',
  '9223372036854775807',
  '18446744073709551615u',
  "'USD'",
  '"\\u00e9"',
  "b'\\xff'",
  'true',
  'false',
  'null',
] as const;

// ---- values ----

const oddNumber: Arbitrary<number> = fc.oneof(
  fc.double(), // NaN, ±Infinity and -0 included
  fc.integer(),
  fc.constantFrom(
    Number.MAX_SAFE_INTEGER + 2,
    2 ** 63,
    2 ** 64,
    -(2 ** 63),
    1e308,
    5e-324,
    0.1 + 0.2,
    499.99,
    500,
    100_000,
  ),
);

const oddString: Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 24 }), // any code point, lone surrogates included
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.constantFrom('', 'USD', 'production', 'v1.2.3', 'A-1', '\u0000', '\u{1F680}', 'e\u0301', '${x}'),
);

const scalar: Arbitrary<unknown> = fc.oneof(oddNumber, oddString, fc.boolean(), fc.constant(null));

/** Deeper than the CEL layer reads (100 levels). */
const deeplyNested: Arbitrary<unknown> = fc
  .tuple(fc.integer({ min: 1, max: 300 }), scalar, fc.boolean())
  .map(([depth, leaf, asList]) => {
    let value = leaf;
    for (let level = 0; level < depth; level++) value = asList ? [value] : { nested: value };
    return value;
  });

const jsonish: Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 4, arbitrary: scalar },
  { weight: 1, arbitrary: deeplyNested },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string(), scalar, { maxKeys: 4 }) },
);

/** Mostly a value a real request carries, sometimes anything. */
const usually = <T>(typical: Arbitrary<T>): Arbitrary<unknown> =>
  fc.oneof({ weight: 4, arbitrary: typical }, { weight: 1, arbitrary: jsonish });

const realisticParameters = fc.record(
  {
    amount: fc.oneof(
      { weight: 4, arbitrary: fc.integer({ min: -10, max: 200_000 }) },
      { weight: 1, arbitrary: oddNumber },
      { weight: 1, arbitrary: jsonish },
    ),
    currency: usually(fc.constantFrom('USD', 'EUR')),
    environment: usually(fc.constantFrom('production', 'staging', 'PROD-eu')),
    tags: usually(fc.array(fc.constantFrom('urgent', 'billing', 'a-long-tag-name'), { maxLength: 4 })),
    items: usually(
      fc.array(fc.record({ sku: fc.constantFrom('A-1', 'B-2'), price: fc.oneof(fc.nat(200), oddNumber) }), {
        maxLength: 4,
      }),
    ),
    version: usually(fc.constantFrom('v1.2.3', 'v1.2', '1.2.3')),
    count: jsonish,
    reason: oddString,
    nothing: fc.constant(null),
  },
  { requiredKeys: [] },
);

/** More than the 16 KiB the controller accepts. */
const oversizedParameters = fc
  .integer({ min: 16 * 1024, max: 20 * 1024 })
  .map((length) => ({ blob: 'x'.repeat(length) }));

const parameters: Arbitrary<unknown> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(realisticParameters, fc.dictionary(fc.string(), jsonish, { maxKeys: 4 }))
      .map(([known, extra]) => ({ ...extra, ...known })),
  },
  // Only an object passes the API server; a hand-made request (greenlight test) may hold anything.
  { weight: 1, arbitrary: fc.jsonValue() },
  { weight: 1, arbitrary: oversizedParameters },
);

/** An object that contains itself, as a YAML alias (`&p … *p`) in a `greenlight test` file makes. */
const selfReferencing = (value: Arbitrary<Record<string, unknown>>): Arbitrary<Record<string, unknown>> =>
  fc.tuple(value, fc.constantFrom('self', 'parent', 'amount', 'metadata')).map(([fields, key]) => {
    const cyclic: Record<string, unknown> = { ...fields };
    cyclic[key] = cyclic;
    return cyclic;
  });

const isoTimeAfterBase = (fromMs: number, toMs: number): Arbitrary<string> =>
  fc.integer({ min: fromMs, max: toMs }).map((ms) => new Date(BASE_TIME + ms).toISOString());

// ---- expressions ----

const tokenSoup = fc
  .array(fc.constantFrom(...CEL_TOKENS), { minLength: 1, maxLength: 20 })
  .map((tokens) => tokens.join(' '));

/** A realistic expression with a few characters inserted somewhere. */
const mutatedExpression = fc
  .tuple(fc.constantFrom(...PARAMS_WHEN, ...CONTEXT_WHEN), fc.nat(), fc.string({ maxLength: 3 }))
  .map(([source, at, inserted]) => {
    const cut = at % (source.length + 1);
    return source.slice(0, cut) + inserted + source.slice(cut);
  });

const pathologicalExpression = fc.oneof(
  fc.integer({ min: 1, max: 2000 }).map((depth) => `${'('.repeat(depth)}true${')'.repeat(depth)}`),
  fc.integer({ min: 1, max: 2000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)} == []`),
  fc.integer({ min: 1, max: 4000 }).map((count) => `${'!'.repeat(count)}true`),
  fc
    .integer({ min: 1, max: 120 })
    .map((depth) => `${'params.tags.all(x, '.repeat(depth)}true${')'.repeat(depth)}`),
  fc.integer({ min: 4000, max: 5000 }).map((length) => `params.amount > ${'9'.repeat(length)}`),
  fc.constantFrom('', ' ', '"unterminated', '\u0000', 'params.', '1 +', 'has(params)', 'params.amount'),
);

const garbageExpression: Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: tokenSoup },
  { weight: 2, arbitrary: mutatedExpression },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 1, arbitrary: pathologicalExpression },
);

const tidyExpression: Arbitrary<string> = fc.constantFrom(...PARAMS_WHEN, ...CONTEXT_WHEN);

const anyExpression: Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: tidyExpression },
  { weight: 2, arbitrary: garbageExpression },
);

// ---- policies ----

const decision: Arbitrary<RuleDecision> = fc.constantFrom(...DECISIONS);

function rulesArbitrary(when: Arbitrary<string>, maxLength: number): Arbitrary<Rule[]> {
  const body = fc.record(
    { when, decision, message: fc.string({ maxLength: 20 }) },
    { requiredKeys: ['decision'] },
  );
  const duplicateName = fc.oneof(
    { weight: 9, arbitrary: fc.constant(false) },
    { weight: 1, arbitrary: fc.constant(true) },
  );
  return fc
    .tuple(fc.array(body, { maxLength }), duplicateName)
    .map(([bodies, duplicate]) =>
      bodies.map((rule, index) => ({ ...rule, name: duplicate && index > 0 ? 'rule-0' : `rule-${index}` })),
    );
}

const labelKey = fc.constantFrom('team', 'env', 'tier');
const labelValue = fc.constantFrom('payments', 'prod', 'x');

const narrowingSelector: Arbitrary<Selector> = fc.record(
  {
    actions: fc.subarray([...ACTIONS]),
    requesters: fc.array(
      fc.oneof(
        fc.constantFrom('*', 'system:serviceaccount:ci:*', 'alice', 'system:serviceaccount:?????:*'),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 10 }),
      ),
      { maxLength: 2 },
    ),
    matchLabels: fc.dictionary(labelKey, labelValue, { maxKeys: 2 }),
    matchExpressions: fc.array(
      fc.record(
        {
          key: labelKey,
          operator: fc.constantFrom('In', 'NotIn', 'Exists', 'DoesNotExist'),
          values: fc.array(labelValue, { maxLength: 2 }),
        },
        { requiredKeys: ['key', 'operator'] },
      ),
      { maxLength: 2 },
    ),
  },
  { requiredKeys: [] },
);

const contextEntry: Arbitrary<ContextEntry> = fc
  .record({
    name: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...CONTEXT_NAMES) },
      { weight: 1, arbitrary: fc.constantFrom('request', 'in', 'now', '9lives', 'has-dash') },
    ),
    where: fc.record(
      {
        namespace: fc.constantFrom('billing', 'ops'),
        name: fc.constantFrom('staging-status', 'deploy-freeze'),
        nameExpression: fc.oneof(
          fc.constantFrom("params.environment + '-status'", 'params.missing_field', 'request.spec.action'),
          garbageExpression,
        ),
      },
      { requiredKeys: [] },
    ),
  })
  .map(({ name, where }) => ({ name, resource: { apiVersion: 'v1', kind: 'ConfigMap', ...where } }));

const VALID_TIMEOUTS = ['30m', '1h', '24h', '72h', '1h30m'] as const;

function escalationArbitrary(timeouts: Arbitrary<string>): Arbitrary<Escalation> {
  return fc.record(
    {
      approvers: fc.record({ kubernetesUsers: fc.subarray([...PEOPLE], { minLength: 1 }) }),
      requiredApprovals: fc.integer({ min: 1, max: 3 }),
      allowSelfApproval: fc.boolean(),
      timeout: timeouts,
    },
    { requiredKeys: ['approvers'] },
  );
}

const validEscalation = escalationArbitrary(fc.constantFrom(...VALID_TIMEOUTS));
const anyEscalation = escalationArbitrary(
  fc.oneof(fc.constantFrom(...VALID_TIMEOUTS), fc.constantFrom('500ms', 'forever', '', '1d', '-1h', '0s')),
);

/** Without an escalation, Escalate would make the policy invalid: such a rule holds instead. */
function withoutDanglingEscalation(spec: ApprovalPolicySpec): ApprovalPolicySpec {
  if (spec.escalation) return spec;
  const settle = (decided: RuleDecision): RuleDecision => (decided === 'Escalate' ? 'Hold' : decided);
  return {
    ...spec,
    ...(spec.rules
      ? { rules: spec.rules.map((rule) => ({ ...rule, decision: settle(rule.decision) })) }
      : {}),
    ...(spec.defaultDecision ? { defaultDecision: settle(spec.defaultDecision) } : {}),
  };
}

/** Most policies select everything in their namespace. */
const selector: Arbitrary<Selector> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({}) },
  { weight: 1, arbitrary: narrowingSelector },
);

const contextByName = (name: string, objectName: string): ContextEntry => ({
  name,
  resource: { apiVersion: 'v1', kind: 'ConfigMap', name: objectName },
});
const CONTEXT_BY_NAME: readonly ContextEntry[] = [
  contextByName('staging', 'staging-status'),
  contextByName('freeze', 'deploy-freeze'),
  contextByName('quota', 'payment-quota'),
];
/** The same facts, one of them named by an expression that fails when params.environment is no string. */
const CONTEXT_WITH_NAME_EXPRESSION: readonly ContextEntry[] = [
  {
    name: 'staging',
    resource: { apiVersion: 'v1', kind: 'ConfigMap', nameExpression: "params.environment + '-status'" },
  },
  ...CONTEXT_BY_NAME.slice(1),
];

/** A context entry whose object cannot be named: the policy fails before any rule. */
const stagingByFailingExpression: ContextEntry = {
  name: 'staging',
  resource: { apiVersion: 'v1', kind: 'ConfigMap', nameExpression: 'params.missing_field' },
};

function specArbitrary(options: {
  readonly when: Arbitrary<string>;
  readonly escalation: Arbitrary<Escalation>;
  readonly context: Arbitrary<ContextEntry[]>;
  readonly maxRules: number;
}): Arbitrary<ApprovalPolicySpec> {
  return fc.record(
    {
      selector,
      rules: rulesArbitrary(options.when, options.maxRules),
      context: options.context,
      defaultDecision: decision,
      escalation: options.escalation,
      mode: fc.constantFrom('Enforce', 'DryRun'),
    },
    { requiredKeys: [] },
  );
}

const tidyContext: Arbitrary<ContextEntry[]> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<ContextEntry[]>([...CONTEXT_BY_NAME]) },
  { weight: 1, arbitrary: fc.constant<ContextEntry[]>([...CONTEXT_WITH_NAME_EXPRESSION]) },
);
/** Mostly valid policies, as an administrator writes them. */
const tidySpec = specArbitrary({
  when: tidyExpression,
  escalation: validEscalation,
  context: tidyContext,
  maxRules: 6,
}).map(withoutDanglingEscalation);
/** Anything a hand-made policy file could say. */
const messySpec = specArbitrary({
  when: anyExpression,
  escalation: anyEscalation,
  context: fc.array(contextEntry, { maxLength: 2 }),
  maxRules: 6,
});
const anySpec = fc.oneof({ weight: 3, arbitrary: tidySpec }, { weight: 1, arbitrary: messySpec });

function policy(name: string, spec: ApprovalPolicySpec): ApprovalPolicy {
  return {
    apiVersion: API_VERSION,
    kind: 'ApprovalPolicy',
    metadata: { name, namespace: NAMESPACE, generation: 1 },
    spec,
  };
}

const policies: Arbitrary<ApprovalPolicy[]> = fc
  .array(anySpec, { maxLength: MAX_POLICIES })
  .map((specs) => specs.map((spec, index) => policy(policyName(index), spec)));

// ---- requests, answers, context, time ----

const requestArbitrary = (parametersArbitrary: Arbitrary<unknown>): Arbitrary<ApprovalRequest> =>
  fc
    .record(
      {
        action: fc.oneof(fc.constantFrom(...ACTIONS), fc.string({ minLength: 1, maxLength: 10 })),
        requester: fc.oneof(
          fc.constantFrom(...REQUESTERS),
          fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }),
        ),
        parameters: parametersArbitrary,
        timeout: fc.oneof(
          { weight: 4, arbitrary: fc.constant(undefined) },
          { weight: 3, arbitrary: fc.constantFrom('90s', '1h', '24h', '72h') },
          { weight: 1, arbitrary: fc.string({ maxLength: 5 }) },
        ),
        // The API server always sets it; a hand-made request may lack it or hold garbage.
        creationTimestamp: fc.oneof(
          { weight: 12, arbitrary: isoTimeAfterBase(0, 10 * MINUTE_MS) },
          { weight: 2, arbitrary: isoTimeAfterBase(0, 10 * MINUTE_MS).map((text) => new Date(text)) },
          { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
          { weight: 1, arbitrary: fc.constant(undefined) },
        ),
        labels: fc.dictionary(labelKey, labelValue, { maxKeys: 3 }),
      },
      { requiredKeys: ['action', 'requester', 'timeout', 'creationTimestamp'] },
    )
    .map(({ action, requester, parameters: given, timeout, creationTimestamp, labels }) => ({
      apiVersion: API_VERSION,
      kind: 'ApprovalRequest',
      metadata: {
        name: 'request-1',
        namespace: NAMESPACE,
        ...(creationTimestamp === undefined ? {} : { creationTimestamp }),
        ...(labels === undefined ? {} : { labels }),
      },
      spec: {
        action,
        requester,
        ...(given === undefined ? {} : { parameters: given as Record<string, unknown> }),
        ...(timeout === undefined ? {} : { timeout }),
      },
    }));

/** An answer as judged, before its place in the list (the index) is known. */
const judgedApproval: Arbitrary<Omit<JudgedApproval, 'index'>> = fc
  .record(
    {
      approver: fc.oneof(
        fc.constantFrom(...PEOPLE, ...REQUESTERS),
        fc.string({ minLength: 1, maxLength: 8 }),
      ),
      via: fc.constantFrom('slack', 'kubernetes'),
      kubernetesUser: fc.constantFrom(...PEOPLE, ...REQUESTERS),
      decision: fc.constantFrom('Approve', 'Deny'),
      comment: fc.string({ maxLength: 20 }),
      at: fc.oneof(isoTimeAfterBase(0, 80 * HOUR_MS), fc.string({ maxLength: 8 })),
      policy: fc.oneof(
        fc.constantFrom(...APPROVABLE_POLICY_NAMES),
        fc.string({ minLength: 1, maxLength: 4 }),
      ),
      policyGeneration: fc.constantFrom(1, 2),
      approverOf: fc.subarray(APPROVABLE_POLICY_NAMES),
    },
    { requiredKeys: ['approver', 'via', 'decision', 'at', 'policy', 'policyGeneration', 'approverOf'] },
  )
  .map(({ approverOf, kubernetesUser, ...answer }) => {
    const approval: Approval = {
      ...answer,
      ...(answer.via === 'slack' && kubernetesUser !== undefined ? { kubernetesUser } : {}),
    };
    return { approval, person: personOf(approval), approverOf: new Set(approverOf) };
  });

const contextObject: Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.record({
    metadata: fc.record({
      name: fc.constant('staging-status'),
      annotations: fc.record({
        'greenlight.dev/green-since': fc.oneof(isoTimeAfterBase(-48 * HOUR_MS, 0), oddString),
      }),
    }),
    data: fc.record({
      frozen: fc.constantFrom('true', 'false'),
      remaining: fc.oneof(fc.constantFrom('0', '1000', '-5', 'lots'), oddString),
    }),
  }),
  jsonish,
  selfReferencing(fc.record({ data: fc.record({ frozen: fc.constant('true') }) })),
);

const contextObjects: Arbitrary<ReadonlyMap<string, unknown>> = fc
  .dictionary(fc.constantFrom(...CONTEXT_NAMES), contextObject)
  .map((objects) => new Map(Object.entries(objects)));

/** Mostly soon after the request was created, sometimes days later, sometimes any time at all. */
const now: Arbitrary<Date> = fc
  .oneof(
    { weight: 12, arbitrary: fc.integer({ min: 10 * MINUTE_MS, max: 20 * MINUTE_MS }) },
    { weight: 3, arbitrary: fc.integer({ min: -HOUR_MS, max: 80 * HOUR_MS }) },
  )
  .map((ms) => new Date(BASE_TIME + ms));
const anyTime: Arbitrary<Date> = fc.oneof(
  { weight: 8, arbitrary: now },
  { weight: 1, arbitrary: fc.date({ noInvalidDate: false }) },
);

interface Scenario {
  readonly request: ApprovalRequest;
  readonly policies: readonly ApprovalPolicy[];
  readonly contextObjects: ReadonlyMap<string, unknown>;
  readonly approvals: readonly JudgedApproval[];
  readonly now: Date;
}

const scenarioArbitrary = (options: {
  readonly policies: Arbitrary<ApprovalPolicy[]>;
  readonly parameters: Arbitrary<unknown>;
}): Arbitrary<Scenario> =>
  fc.record({
    request: requestArbitrary(options.parameters),
    policies: options.policies,
    contextObjects,
    approvals: fc
      .array(judgedApproval, { maxLength: 6 })
      .map((answers) => answers.map((answer, index) => ({ ...answer, index }))),
    now: anyTime,
  });

const anyScenario = scenarioArbitrary({ policies, parameters });

function decideScenario(scenario: Scenario, policiesInForce = scenario.policies): Resolution {
  return decide({
    request: scenario.request,
    policies: policiesInForce.map(compilePolicy),
    lookup: (reference) => scenario.contextObjects.get(reference.variable),
    approvals: scenario.approvals,
    now: scenario.now,
  });
}

function expectFinalShaped(resolution: Resolution): void {
  expect(resolution.decision !== undefined).toBe(isFinal(resolution.phase));
  if (resolution.decision) expect(resolution.decision.outcome).toBe(resolution.phase);
  expect(resolution.evaluations.length).toBeLessThanOrEqual(MAX_EVALUATIONS);
}

function expectNoApprovalFromAnError(resolution: Resolution): void {
  for (const verdict of resolution.verdicts) {
    if (verdict.trace.at(-1)?.result === 'Error') expect(verdict.decision).not.toBe('Approve');
  }
}

function insertAt<T>(items: readonly T[], inserted: readonly T[], positions: readonly number[]): T[] {
  const merged = [...items];
  inserted.forEach((item, index) => {
    merged.splice((positions[index] ?? 0) % (merged.length + 1), 0, item);
  });
  return merged;
}

const TIME_LIMIT_MS = 30_000;

describe('the generators', () => {
  it.each([...PARAMS_WHEN, ...RARELY_TRUE_WHEN])('compile the tidy expression %s', (source) => {
    expect(compileExpression(source, { variables: [], expect: 'bool' })).toMatchObject({ ok: true });
  });

  it.each(CONTEXT_WHEN)('compile the context expression %s', (source) => {
    const compiled = compileExpression(source, { variables: [...CONTEXT_NAMES], expect: 'bool' });
    expect(compiled).toMatchObject({ ok: true });
  });

  it.each(FAILING_WHEN)('fail at runtime with %s', (source) => {
    const compiled = compileExpression(source, { variables: [], expect: 'bool' });
    if (!compiled.ok) throw new Error(`${source}: ${compiled.error.message}`);
    const bindings = prepareBindings({
      request: { spec: { parameters: { amount: 1 } } },
      now: new Date(BASE_TIME),
      context: {},
    });
    expect(evaluate(compiled.program, bindings)).toMatchObject({ ok: false });
  });
});

describe('the policy engine, whatever the input', () => {
  it('compiles any expression to a program or a problem naming the field, never throwing', () => {
    fc.assert(
      fc.property(anyExpression, decision, (when, decided) => {
        const compiled = compilePolicy(policy('p', { rules: [{ name: 'r', when, decision: decided }] }));
        const problemFields = compiled.problems.map((problem) => problem.field);
        expect(compiled.rules[0]?.when !== undefined).toBe(!problemFields.includes('spec.rules[0].when'));
      }),
      { numRuns: 500 },
    );
  });

  it(
    'decides without throwing, in a final-shaped resolution with a bounded trace, never approving from an error',
    () => {
      fc.assert(
        fc.property(anyScenario, (scenario) => {
          const resolution = decideScenario(scenario);
          expectFinalShaped(resolution);
          expectNoApprovalFromAnError(resolution);
        }),
        { numRuns: 400 },
      );
    },
    TIME_LIMIT_MS,
  );

  it(
    'denies when any Enforce policy that selects the request denies, unless its deadline has passed',
    () => {
      const denyingSpec = fc.record({
        rules: fc
          .array(fc.record({ when: fc.constantFrom(...PARAMS_WHEN) }, { requiredKeys: [] }), { maxLength: 4 })
          .map((rules) =>
            rules.map((rule, index) => ({ ...rule, name: `deny-${index}`, decision: 'Deny' as const })),
          ),
        selector: fc.constant({}),
        defaultDecision: fc.constant('Deny' as const),
      });
      fc.assert(
        fc.property(anyScenario, denyingSpec, fc.nat(), (scenario, spec, position) => {
          const denier = policy('deny-all', spec);
          const resolution = decideScenario(scenario, insertAt(scenario.policies, [denier], [position]));
          expectFinalShaped(resolution);
          const denials = resolution.verdicts.filter((v) => v.mode === 'Enforce' && v.decision === 'Deny');
          expect(denials.map((v) => v.policy)).toContain('deny-all');
          if (resolution.phase === 'Expired') {
            expect(resolution.expiresAt?.getTime()).toBeLessThanOrEqual(scenario.now.getTime());
            return;
          }
          expect(resolution.phase).toBe('Denied');
          const deciders = ['controller', ...denials.map((v) => `policy:${v.policy}/${v.rule ?? 'default'}`)];
          expect(deciders).toContain(resolution.decision?.decidedBy);
        }),
        { numRuns: 250 },
      );
    },
    TIME_LIMIT_MS,
  );

  it(
    'never approves on behalf of a policy whose rules fail: only people can approve past it',
    () => {
      const failingSpec: Arbitrary<ApprovalPolicySpec> = fc
        .record(
          {
            rules: fc
              .array(
                fc.record({
                  when: fc.constantFrom(...FAILING_WHEN),
                  decision: fc.oneof({ weight: 2, arbitrary: fc.constant('Approve' as const) }, decision),
                }),
                { minLength: 1, maxLength: 4 },
              )
              .map((rules) => rules.map((rule, index) => ({ ...rule, name: `failing-${index}` }))),
            defaultDecision: decision,
            escalation: validEscalation,
            context: fc.constantFrom<ContextEntry[]>([], [...CONTEXT_BY_NAME], [stagingByFailingExpression]),
          },
          { requiredKeys: ['rules', 'defaultDecision', 'context'] },
        )
        .map(withoutDanglingEscalation);
      const withoutMissing = parameters.map((given) => {
        if (typeof given !== 'object' || given === null || Array.isArray(given)) return given;
        const kept = Object.entries(given).filter(
          ([key]) => !(MISSING_PARAMETERS as readonly string[]).includes(key),
        );
        return Object.fromEntries(kept);
      });
      const scenarios = scenarioArbitrary({ policies, parameters: withoutMissing });
      fc.assert(
        fc.property(scenarios, failingSpec, fc.nat(), (scenario, spec, position) => {
          const failing = policy('failing', spec);
          const inForce = insertAt(scenario.policies, [failing], [position]);
          const answered = decideScenario(scenario, inForce);
          const unanswered = decideScenario({ ...scenario, approvals: [] }, inForce);
          for (const resolution of [answered, unanswered]) {
            const verdict = resolution.verdicts.find((v) => v.policy === 'failing');
            expect(verdict?.decision).toBe(spec.escalation ? 'Escalate' : 'Deny');
            expect(verdict?.trace.at(-1)?.result).toBe('Error');
          }
          expect(unanswered.phase).not.toBe('Approved');
          if (answered.phase === 'Approved') expect(answered.decision?.decidedBy).toMatch(/^(slack|user):/);
        }),
        { numRuns: 200 },
      );
    },
    TIME_LIMIT_MS,
  );

  it(
    'decides the same when DryRun copies of any policies join the set',
    () => {
      const copies = fc.record({
        chosen: fc.array(fc.boolean(), { minLength: MAX_POLICIES, maxLength: MAX_POLICIES }),
        positions: fc.array(fc.nat(), { minLength: MAX_POLICIES, maxLength: MAX_POLICIES }),
      });
      fc.assert(
        fc.property(anyScenario, copies, (scenario, { chosen, positions }) => {
          const dryRunCopies = scenario.policies
            .filter((_, index) => chosen[index])
            .map((original) =>
              policy(dryRunCopyName(original.metadata.name ?? ''), { ...original.spec, mode: 'DryRun' }),
            );
          const before = decideScenario(scenario);
          const after = decideScenario(scenario, insertAt(scenario.policies, dryRunCopies, positions));
          expect({ phase: after.phase, decision: after.decision, expiresAt: after.expiresAt }).toEqual({
            phase: before.phase,
            decision: before.decision,
            expiresAt: before.expiresAt,
          });
        }),
        { numRuns: 250 },
      );
    },
    TIME_LIMIT_MS,
  );

  // `greenlight test` reads YAML, whose aliases can make parameters that contain themselves.
  it('decides a request whose parameters contain themselves', () => {
    fc.assert(
      fc.property(
        scenarioArbitrary({ policies, parameters: selfReferencing(realisticParameters) }),
        (scenario) => {
          expectFinalShaped(decideScenario(scenario));
        },
      ),
      { numRuns: 20 },
    );
  });

  it(
    'keeps at most 64 trace entries, and every one of them when they fit',
    () => {
      const longTraceSpec = specArbitrary({
        when: fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom(...RARELY_TRUE_WHEN) },
          { weight: 1, arbitrary: tidyExpression },
        ),
        escalation: validEscalation,
        context: tidyContext,
        maxRules: 12,
      }).map(withoutDanglingEscalation);
      const manyPolicies = fc
        .array(longTraceSpec, { maxLength: 80, size: 'max' })
        .map((specs) => specs.map((spec, index) => policy(policyName(index), spec)));
      fc.assert(
        fc.property(scenarioArbitrary({ policies: manyPolicies, parameters }), (scenario) => {
          const resolution = decideScenario(scenario);
          expectFinalShaped(resolution);
          const everything = resolution.verdicts.flatMap((verdict) => verdict.trace);
          if (everything.length <= MAX_EVALUATIONS) expect(resolution.evaluations).toEqual(everything);
          else
            expect(resolution.evaluations).toHaveLength(
              Math.min(resolution.verdicts.length, MAX_EVALUATIONS),
            );
        }),
        { numRuns: 50 },
      );
    },
    TIME_LIMIT_MS,
  );
});
