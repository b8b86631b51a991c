import { describe, expect, it } from 'vitest';
import { locators } from './positions.ts';

const policy = `apiVersion: greenlight.dev/v1alpha1
kind: ApprovalPolicy
metadata: { name: p }
spec:
  rules:
    - name: plain
      when: params.a == 1 && parms.b
    - name: quoted
      when: "params.a == 1 && parms.b"
    - name: folded
      when: >-
        params.a == 1 &&
        parms.b
    - name: literal
      when: |
        params.a == 1 &&
          parms.b
  escalation:
    requiredApproval: 2
---
kind: Second
`;

describe('source positions of a YAML file', () => {
  const [first, second] = locators(policy);

  it('places a field, and an unknown key, where they are written', () => {
    expect(first?.(['spec', 'rules', 1, 'name'])).toEqual({ line: 8, column: 13 });
    expect(first?.(['spec', 'escalation'], { key: 'requiredApproval' })).toEqual({ line: 19, column: 5 });
    expect(second?.(['kind'])).toEqual({ line: 21, column: 7 });
    expect(first?.(['spec', 'nothing'])).toBeUndefined();
  });

  it.each<[number, { line: number; column: number }, { line: number; column: number }]>([
    [0, { line: 1, column: 18 }, { line: 7, column: 30 }],
    [1, { line: 1, column: 18 }, { line: 9, column: 31 }],
    [2, { line: 1, column: 18 }, { line: 13, column: 9 }],
    [3, { line: 2, column: 3 }, { line: 17, column: 11 }],
  ])('maps a place inside rule %i’s expression back to the file', (rule, inside, expected) => {
    expect(first?.(['spec', 'rules', rule, 'when'], { inside })).toEqual(expected);
  });
});
