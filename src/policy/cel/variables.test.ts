import { describe, expect, it } from 'vitest';
import { variableNameProblem } from './variables.ts';

describe('variableNameProblem', () => {
  it.each(['staging', 'prod_cluster', '_private', 'ctx2'])('accepts %s', (name) => {
    expect(variableNameProblem(name)).toBeUndefined();
  });

  it.each([
    ['', "'' is not a CEL identifier (letters, digits and _, not starting with a digit)"],
    ['2nd', "'2nd' is not a CEL identifier (letters, digits and _, not starting with a digit)"],
    [
      'green-since',
      "'green-since' is not a CEL identifier (letters, digits and _, not starting with a digit)",
    ],
    ['null', "'null' is a reserved word in CEL"],
    ['while', "'while' is a reserved word in CEL"],
    ['string', "'string' would hide the CEL type of that name"],
    ['params', "'params' is a built-in variable"],
  ])('rejects %j', (name, problem) => {
    expect(variableNameProblem(name)).toBe(problem);
  });
});
