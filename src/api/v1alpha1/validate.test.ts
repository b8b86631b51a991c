import { describe, expect, it } from 'vitest';
import { ApprovalPolicySpecSchema } from './schemas/approval-policy.ts';
import { fieldPath, schemaProblems } from './validate.ts';

describe('schemaProblems', () => {
  it('names each bad field the way the API server does', () => {
    const problems = schemaProblems(
      ApprovalPolicySpecSchema,
      { rules: [{ name: 'x', decision: 'Maybe', wen: 'true' }], mode: 'Audit' },
      'spec',
    );
    expect(problems).toEqual([
      'spec.rules[0]: unknown field wen (did you mean when?)',
      'spec.rules[0].decision: must be one of Approve, Deny, Escalate, Hold',
      'spec.mode: must be one of Enforce, DryRun',
    ]);
  });

  it('finds nothing wrong with a good spec', () => {
    expect(
      schemaProblems(ApprovalPolicySpecSchema, { rules: [{ name: 'x', decision: 'Deny' }] }, 'spec'),
    ).toEqual([]);
  });
});

describe('fieldPath', () => {
  it.each([
    ['', '', ''],
    ['spec', '', 'spec'],
    ['spec', '/rules/10/when', 'spec.rules[10].when'],
    ['', '/a~1b/c~0d', 'a/b.c~d'],
  ])('%j + %j is %j', (prefix, pointer, path) => {
    expect(fieldPath(prefix, pointer)).toBe(path);
  });
});
