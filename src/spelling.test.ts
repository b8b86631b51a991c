import { describe, expect, it } from 'vitest';
import { closestName, editDistance } from './spelling.ts';

describe('closestName', () => {
  it.each([
    ['parms', 'params'],
    ['reqest', 'request'],
    ['stagign', 'staging'],
    ['nw', 'now'],
    ['x', undefined],
    ['amount', undefined],
  ])('suggests a name for %s', (typo, suggestion) => {
    expect(closestName(typo, ['request', 'params', 'now', 'staging'])).toBe(suggestion);
  });
});

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['abc', 'abc', 0],
    ['abc', 'abd', 1],
    ['abc', 'ab', 1],
    ['kitten', 'sitting', 3],
  ])('between %j and %j is %i', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
  });
});
