import { describe, expect, it } from 'vitest';
import type { Selector } from '../api/v1alpha1/approval-policy.ts';
import type { ApprovalRequest } from '../api/v1alpha1/approval-request.ts';
import { matchesGlob } from './glob.ts';
import { selects } from './selector.ts';

const request: ApprovalRequest = {
  apiVersion: 'greenlight.dev/v1alpha1',
  kind: 'ApprovalRequest',
  metadata: { name: 'r', namespace: 'payments', labels: { team: 'billing', tier: 'gold' } },
  spec: { action: 'payment', requester: 'system:serviceaccount:ci:deployer' },
};

describe('selects', () => {
  it.each<[string, Selector | undefined, boolean]>([
    ['no selector', undefined, true],
    ['an empty selector', {}, true],
    ['its action', { actions: ['deploy', 'payment'] }, true],
    ['another action', { actions: ['deploy'] }, false],
    ['an empty action list (any action)', { actions: [] }, true],
    ['a requester glob across the namespace', { requesters: ['system:serviceaccount:ci:*'] }, true],
    ['a requester glob of another namespace', { requesters: ['system:serviceaccount:prod:*'] }, false],
    ['matching labels', { matchLabels: { team: 'billing' } }, true],
    ['a label with another value', { matchLabels: { team: 'web' } }, false],
    ['In', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['gold', 'silver'] }] }, true],
    ['NotIn', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['gold'] }] }, false],
    [
      'NotIn on a missing label',
      { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] },
      true,
    ],
    ['Exists', { matchExpressions: [{ key: 'team', operator: 'Exists' }] }, true],
    ['DoesNotExist', { matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] }, false],
    ['all parts matching', { actions: ['payment'], requesters: ['*'], matchLabels: { tier: 'gold' } }, true],
    ['one part of several failing', { actions: ['payment'], requesters: ['alice'] }, false],
  ])('with %s: %s', (_case, selector, expected) => {
    expect(selects(selector, request)).toBe(expected);
  });
});

describe('matchesGlob', () => {
  it.each([
    ['system:serviceaccount:ci:*', 'system:serviceaccount:ci:deployer', true],
    ['system:serviceaccount:ci:*', 'system:serviceaccount:cid:deployer', false],
    ['alice', 'alice', true],
    ['alice', 'alice2', false],
    ['bo?', 'bob', true],
    ['bo?', 'bo', false],
    ['a.b', 'axb', false],
    ['(x)+[y]', '(x)+[y]', true],
    ['*', '', true],
    // Found by fuzzing (cel-grammar.property.test.ts): `?` matched half of a surrogate pair only.
    ['oidc:?@example.com', 'oidc:\u{1F680}@example.com', true],
    ['??', '\u{1F680}', false],
  ])('%s against %s: %s', (pattern, value, expected) => {
    expect(matchesGlob(pattern, value)).toBe(expected);
  });
});
