import { describe, expect, it } from 'vitest';
import { compileExpression } from './compile.ts';
import { typeMismatches } from './comparisons.ts';

function comparisonsOf(source: string) {
  const compiled = compileExpression(source, { variables: [], expect: 'bool' });
  if (!compiled.ok) throw new Error(compiled.error.message);
  return compiled.program.parameterComparisons;
}

describe('parameter comparisons', () => {
  it('finds parameters compared with literals, however the parameter is named', () => {
    expect(
      comparisonsOf(
        "params.reversible == true && request.spec.parameters.amount < 500 && params['env'].name != 'prod'",
      ).map((c) => [c.text, c.literal]),
    ).toEqual(
      expect.arrayContaining([
        ['params.reversible', 'bool'],
        ['params.amount', 'number'],
        ['params.env.name', 'string'],
      ]),
    );
    expect(comparisonsOf('has(params.reversible) && size(params.tags) > 2')).toEqual([]);
  });

  it('says which parameter had another type than the literal it was compared with', () => {
    const comparisons = comparisonsOf(
      "params.reversible == true && params.amount < 500 && params.region == 'eu'",
    );
    expect(typeMismatches(comparisons, { reversible: 'True', amount: '450', region: 'eu' })).toEqual([
      'params.reversible is the string "True", compared with a bool',
      'params.amount is the string "450", compared with a number',
    ]);
    expect(typeMismatches(comparisons, { reversible: true, amount: 450, region: 'us' })).toEqual([]);
    expect(typeMismatches(comparisons, {})).toEqual([]);
  });
});
