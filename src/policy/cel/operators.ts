/** The symbols of CEL's operator functions ('_+_' is `+`), for messages. */
const OPERATORS: ReadonlyMap<string, string> = new Map([
  ['_+_', '+'],
  ['_-_', '-'],
  ['_*_', '*'],
  ['_/_', '/'],
  ['_%_', '%'],
  ['_<_', '<'],
  ['_<=_', '<='],
  ['_>_', '>'],
  ['_>=_', '>='],
  ['_==_', '=='],
  ['_!=_', '!='],
  ['_&&_', '&&'],
  ['_||_', '||'],
  ['!_', '!'],
  ['-_', '-'],
  ['@in', 'in'],
]);

/** `operator '+'` for '_+_', `'size'` for size. */
export function describeFunction(name: string): string {
  const symbol = OPERATORS.get(name);
  return symbol === undefined ? `'${name}'` : `operator '${symbol}'`;
}
