import type { TSchema } from 'typebox';
import Value from 'typebox/value';
import { closestName } from '../../spelling.ts';

/** `/rules/0/decision` → `spec.rules[0].decision` (with `prefix` spec), the way kubectl names fields. */
export function fieldPath(prefix: string, pointer: string): string {
  let path = prefix;
  for (const part of pointer.split('/').slice(1)) {
    const key = part.replaceAll('~1', '/').replaceAll('~0', '~');
    path += /^[0-9]+$/.test(key) ? `[${key}]` : path ? `.${key}` : key;
  }
  return path;
}

/** The sub-schema a TypeBox error's schemaPath points at (`#/properties/spec/properties/escalation`). */
function subschema(root: TSchema, schemaPath: string): unknown {
  let current: unknown = root;
  for (const part of schemaPath.replace(/^#/, '').split('/').slice(1)) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  return current;
}

function describeError(
  root: TSchema,
  error: { message: string; params: unknown; schemaPath: string },
): string {
  const params = (error.params ?? {}) as { allowedValues?: unknown[]; additionalProperties?: unknown[] };
  if (params.allowedValues) return `must be one of ${params.allowedValues.join(', ')}`;
  if (params.additionalProperties) {
    const known = Object.keys(
      ((subschema(root, error.schemaPath) ?? {}) as { properties?: Record<string, unknown> }).properties ??
        {},
    );
    const fields = params.additionalProperties.map((field) => {
      const suggestion = closestName(String(field), known);
      return suggestion ? `${String(field)} (did you mean ${suggestion}?)` : String(field);
    });
    // YAML 1.1, which kubectl speaks, reads a bare `on`, `yes` or `off` key as a boolean.
    const hint = fields.some((field) => field === 'true' || field === 'false')
      ? " (quote YAML keys such as 'on')"
      : '';
    return `unknown field ${fields.join(', ')}${hint}`;
  }
  return error.message;
}

/** One problem of a value against an API schema: where (a JSON pointer and the field as kubectl names it) and what. */
export interface SchemaProblem {
  readonly pointer: string;
  readonly field: string;
  readonly message: string;
}

/**
 * What is wrong with `value` against an API schema, fields named as the API server would name them.
 * The same schemas generate the CRDs, so this is the API server's verdict minus the CEL rules,
 * available offline.
 */
export function schemaErrors(schema: TSchema, value: unknown, prefix: string): SchemaProblem[] {
  const problems = new Map<string, SchemaProblem>();
  for (const error of Value.Errors(schema, value)) {
    if (error.message === 'schema is false') continue; // repeated by the additionalProperties error
    const problem = {
      pointer: error.instancePath,
      field: fieldPath(prefix, error.instancePath),
      message: describeError(schema, error),
    };
    problems.set(`${problem.field}: ${problem.message}`, problem);
  }
  return [...problems.values()];
}

/** schemaErrors() as lines: `spec.rules[0].decision: must be one of …`. */
export function schemaProblems(schema: TSchema, value: unknown, prefix: string): string[] {
  return schemaErrors(schema, value, prefix).map((problem) => `${problem.field}: ${problem.message}`);
}
