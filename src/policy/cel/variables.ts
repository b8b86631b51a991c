/** Variables every expression may read; the policy's context entries add one variable each. */
export const BUILTIN_VARIABLES = ['request', 'params', 'now'] as const;
export type BuiltinVariable = (typeof BUILTIN_VARIABLES)[number];

/** Bare identifiers that CEL resolves to type values, as in `type(x) == string`. */
export const TYPE_IDENTIFIERS: ReadonlySet<string> = new Set([
  'bool',
  'bytes',
  'double',
  'int',
  'list',
  'map',
  'null_type',
  'string',
  'type',
  'uint',
]);

// The CEL language definition reserves these words; none can name a variable.
const RESERVED_WORDS: ReadonlySet<string> = new Set([
  'as',
  'break',
  'const',
  'continue',
  'else',
  'false',
  'for',
  'function',
  'if',
  'import',
  'in',
  'let',
  'loop',
  'namespace',
  'null',
  'package',
  'return',
  'true',
  'var',
  'void',
  'while',
]);

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Why `name` cannot name a context variable, or undefined when it can. */
export function variableNameProblem(name: string): string | undefined {
  if (!IDENTIFIER.test(name)) {
    return `'${name}' is not a CEL identifier (letters, digits and _, not starting with a digit)`;
  }
  if (RESERVED_WORDS.has(name)) return `'${name}' is a reserved word in CEL`;
  if (TYPE_IDENTIFIERS.has(name)) return `'${name}' would hide the CEL type of that name`;
  if ((BUILTIN_VARIABLES as readonly string[]).includes(name)) return `'${name}' is a built-in variable`;
  return undefined;
}
