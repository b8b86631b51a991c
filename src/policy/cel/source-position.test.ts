import { describe, expect, it } from 'vitest';
import { positionAt, tokenStart } from './source-position.ts';

describe('positionAt', () => {
  it.each([
    ['abc', 0, 1, 1],
    ['abc', 2, 1, 3],
    ['ab\ncd', 3, 2, 1],
    ['ab\ncd', 4, 2, 2],
    ['ab\r\ncd', 4, 2, 1],
    ['ab\r\ncd', 3, 2, 1],
    ['ab\rcd', 3, 2, 1],
    ['a\n\nb', 3, 3, 1],
    ['abc', 99, 1, 4],
  ])('places offset %# of %j', (source, offset, line, column) => {
    expect(positionAt(source, offset)).toEqual({ line, column });
  });
});

describe('tokenStart', () => {
  it.each([
    ['a  > b', 1, 3],
    ['a >\n b', 3, 5],
    ['a>b', 1, 1],
    ['a  ', 1, 3],
  ])('skips blanks in %j from %i', (source, offset, start) => {
    expect(tokenStart(source, offset)).toBe(start);
  });
});
