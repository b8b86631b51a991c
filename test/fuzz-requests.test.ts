import { CustomObjectsApi } from '@kubernetes/client-node';
import fc, { type Arbitrary } from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_PARAMETERS_BYTES, type ApprovalRequest } from '../src/api/v1alpha1/approval-request.ts';
import { GROUP, VERSION } from '../src/api/v1alpha1/schema.ts';
import { isApiRefusal, statusCodeOf } from '../src/k8s/api-errors.ts';
import { GreenlightApi } from '../src/k8s/greenlight-api.ts';
import { createTestNamespace, kubeConfigAs } from './support/cluster.ts';
import { startController, waitForCondition, type RunningController } from './support/controller.ts';
import { greenlightAs } from './support/greenlight-objects.ts';
import { grant, REQUESTER_RULES } from './support/rbac.ts';

// ApprovalRequests with generated names and parameters, created by a pipeline against the real API
// server, in a namespace whose controller runs one policy: approve when params.amount < 500, deny
// otherwise. The API server accepts an object or refuses it naming the field; the controller decides
// every accepted one as the policy says (never Approved when the rule says deny), keeps deciding, and
// logs no error. The seed is fixed, so a run is repeatable; a failure prints its shrunk case.

const SEED = 20_260_313;
const RUNS = 40;
const ciUser = 'system:serviceaccount:ci:deployer';
const admin = new GreenlightApi(kubeConfigAs('admin'));
const objects = kubeConfigAs('admin').makeApiClient(CustomObjectsApi);
const running: RunningController[] = [];

afterAll(async () => {
  await Promise.all(running.map((controller) => controller.stop()));
});

// ---- names ----

const lower = 'abcdefghijklmnopqrstuvwxyz0123456789';
const dnsLabel = (length: number): Arbitrary<string> =>
  fc
    .array(fc.constantFrom(...Array.from(lower), '-'), { minLength: length, maxLength: length })
    .map((chars) => chars.join(''))
    .map((name) => `a${name.slice(1, -1)}${length > 1 ? '0' : ''}`.slice(0, length));

/** Names around the limits: DNS labels up to and past 63, subdomains up to and past 253, and junk. */
const name: Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 20 }).chain(dnsLabel) },
  { weight: 2, arbitrary: fc.constantFrom(62, 63, 64).chain(dnsLabel) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(253, 254).map((length) =>
      Array.from({ length: 5 }, () => 'a'.repeat(50))
        .join('.')
        .concat('abc', 'd')
        .slice(0, length),
    ),
  },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '',
      '-leading',
      'trailing-',
      'UPPER',
      'under_score',
      'dots.in.name',
      '..',
      'a..b',
      'slash/name',
      'space name',
      'ünïcode',
      '\u{1F680}',
      'a%2Fb',
      'x'.repeat(300),
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }) },
);

// ---- parameters ----

const oddString: Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('', '\u0000', '\u{1F680}', 'e\u0301', '${x}', '"quoted"', '\\', '\n'),
  fc.integer({ min: 1000, max: 20_000 }).map((length) => 'y'.repeat(length)),
);

const oddNumber: Arbitrary<number> = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e308, max: 1e308 }),
  fc.constantFrom(499, 499.99, 500, 500.01, -0, 5e-324, 2 ** 53 + 2, 2 ** 63, 2 ** 64, 1e21, -1e300),
);

const nested = (depth: number, leaf: unknown, asList: boolean): unknown => {
  let value = leaf;
  for (let level = 0; level < depth; level++) value = asList ? [value] : { n: value };
  return value;
};

/** Shallow nesting (the rule reads it) or far deeper than the 100 levels the CEL layer reads. */
const deep: Arbitrary<{ readonly value: unknown; readonly tooDeep: boolean }> = fc
  .tuple(fc.oneof(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 150, max: 300 })), fc.boolean())
  .map(([depth, asList]) => ({ value: nested(depth, 'leaf', asList), tooDeep: depth >= 150 }));

interface Generated {
  readonly name: string;
  readonly action: string;
  readonly parameters: unknown;
  /** Whether some value nests deeper than the rule can read. */
  readonly tooDeep: boolean;
}

const amount: Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: oddNumber },
  {
    weight: 1,
    arbitrary: fc.oneof(oddString, fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 2 })),
  },
);

const parametersArbitrary: Arbitrary<{ readonly parameters: unknown; readonly tooDeep: boolean }> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .record(
        {
          amount,
          extra: fc.dictionary(
            fc.string({ unit: 'grapheme', maxLength: 10 }),
            fc.oneof(oddString, oddNumber, fc.jsonValue({ maxDepth: 3 })),
            { maxKeys: 5 },
          ),
          deep: fc.option(deep, { nil: undefined }),
        },
        { requiredKeys: ['extra'] },
      )
      .map(({ amount: given, extra, deep: nesting }) => ({
        parameters: {
          ...extra,
          ...(nesting === undefined ? {} : { nesting: nesting.value }),
          ...(given === undefined ? {} : { amount: given }),
        },
        tooDeep: nesting?.tooDeep ?? false,
      })),
  },
  // More properties than the schema's 128, or no object at all: refused by the API server.
  {
    weight: 1,
    arbitrary: fc.integer({ min: 120, max: 140 }).map((count) => ({
      parameters: Object.fromEntries(Array.from({ length: count }, (_, index) => [`p${index}`, index])),
      tooDeep: false,
    })),
  },
  {
    weight: 1,
    arbitrary: fc
      .oneof(fc.constantFrom([], 'x', 7, null, [1, 2]))
      .map((parameters) => ({ parameters, tooDeep: false })),
  },
);

const generated: Arbitrary<Generated> = fc
  .record({
    name,
    action: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('payment', 'deploy', 'db.migrate') },
      { weight: 1, arbitrary: fc.constantFrom('Payment', '-x', 'a'.repeat(64), '', 'pay ment') },
    ),
    parameters: parametersArbitrary,
  })
  .map(({ name: given, action, parameters }) => ({ name: given, action, ...parameters }));

/** What the policy decides, read from the generated input alone. */
function policySays(input: Generated): 'Approved' | 'Denied' {
  const parameters = input.parameters as Record<string, unknown>;
  const size = Buffer.byteLength(JSON.stringify(parameters));
  const small = typeof parameters['amount'] === 'number' && parameters['amount'] < 500;
  return small && size <= MAX_PARAMETERS_BYTES && !input.tooDeep ? 'Approved' : 'Denied';
}

/** The field a refusal must name, for the inputs the schema refuses. */
const FIELDS = ['metadata.name', 'spec.action', 'spec.parameters', 'spec'] as const;

async function create(
  namespace: string,
  input: Generated,
): Promise<{ accepted: true } | { accepted: false; code: number; message: string }> {
  try {
    await greenlightAs('ci').createRaw(namespace, 'ApprovalRequest', input.name, {
      action: input.action,
      requester: ciUser,
      parameters: input.parameters,
    });
    return { accepted: true };
  } catch (error) {
    if (!isApiRefusal(error)) throw error;
    const body = (error as { body?: unknown }).body;
    const parsed: unknown = typeof body === 'string' ? JSON.parse(body) : body;
    const message =
      typeof parsed === 'object' && parsed !== null && 'message' in parsed
        ? String(parsed.message)
        : String(body);
    return { accepted: false, code: statusCodeOf(error) ?? 0, message };
  }
}

async function remove(namespace: string, objectName: string): Promise<void> {
  await objects.deleteNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: 'approvalrequests',
    name: objectName,
  });
}

describe('generated ApprovalRequests against the real API server and a running controller', () => {
  it('are accepted or refused naming the field, and every accepted one is decided as the policy says', async () => {
    const namespace = await createTestNamespace('fuzz-requests');
    await grant(namespace, { user: ciUser }, REQUESTER_RULES);
    await greenlightAs('admin').createPolicy(namespace, 'amounts', {
      rules: [{ name: 'small', when: 'params.amount < 500', decision: 'Approve' }],
      defaultDecision: 'Deny',
    });
    const controller = await startController(namespace);
    running.push(controller);
    const seen = { accepted: 0, refused: 0, approved: 0 };

    await fc.assert(
      fc.asyncProperty(generated, async (input) => {
        const created = await create(namespace, input);
        if (!created.accepted) {
          seen.refused++;
          expect(created.code).toBe(422);
          expect(
            FIELDS.some((field) => created.message.includes(field)),
            created.message,
          ).toBe(true);
          return;
        }
        seen.accepted++;
        try {
          const decided: ApprovalRequest = await waitForCondition(admin, namespace, input.name, 'Decided');
          expect(decided.status?.phase).toBe(policySays(input));
          if (decided.status?.phase === 'Approved') seen.approved++;
        } finally {
          // Shrinking may try the same name again.
          await remove(namespace, input.name);
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );

    // Both paths were taken, and the controller still decides.
    expect(seen.accepted).toBeGreaterThan(RUNS / 4);
    expect(seen.refused).toBeGreaterThan(0);
    expect(seen.approved).toBeGreaterThan(0);
    await greenlightAs('ci').createRequest(namespace, 'after-the-fuzz', {
      action: 'payment',
      requester: ciUser,
      parameters: { amount: 1 },
    });
    const after = await waitForCondition(admin, namespace, 'after-the-fuzz', 'Decided');
    expect(after.status?.phase).toBe('Approved');
    const errors = controller.logs.filter(
      (line) => (JSON.parse(line) as { level?: string }).level === 'error',
    );
    expect(errors).toEqual([]);
  }, 120_000);
});
