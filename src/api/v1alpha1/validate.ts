import type { TSchema } from 'typebox';
import Value from 'typebox/value';

/** `/rules/0/decision` → `spec.rules[0].decision` (with `prefix` spec), the way kubectl names fields. */
export function fieldPath(prefix: string, pointer: string): string {
  let path = prefix;
  for (const part of pointer.split('/').slice(1)) {
    const key = part.replaceAll('~1', '/').replaceAll('~0', '~');
    path += /^[0-9]+$/.test(key) ? `[${key}]` : path ? `.${key}` : key;
  }
  return path;
}

function describeError(error: { message: string; params: unknown }): string {
  const params = (error.params ?? {}) as { allowedValues?: unknown[]; additionalProperties?: unknown[] };
  if (params.allowedValues) return `must be one of ${params.allowedValues.join(', ')}`;
  if (params.additionalProperties) {
    const fields = params.additionalProperties.map(String);
    // YAML 1.1, which kubectl speaks, reads a bare `on`, `yes` or `off` key as a boolean.
    const hint = fields.some((field) => field === 'true' || field === 'false')
      ? " (quote YAML keys such as 'on')"
      : '';
    return `unknown field ${fields.join(', ')}${hint}`;
  }
  return error.message;
}

/**
 * What is wrong with `value` against an API schema, one line per problem, fields named as the API
 * server would name them. The same schemas generate the CRDs, so this is the API server's verdict
 * minus the CEL rules, available offline.
 */
export function schemaProblems(schema: TSchema, value: unknown, prefix: string): string[] {
  const problems: string[] = [];
  for (const error of Value.Errors(schema, value)) {
    if (error.message === 'schema is false') continue; // repeated by the additionalProperties error
    problems.push(`${fieldPath(prefix, error.instancePath)}: ${describeError(error)}`);
  }
  return [...new Set(problems)];
}
