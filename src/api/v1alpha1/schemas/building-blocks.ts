import Type, { type TString, type TUnsafe } from 'typebox';
import { ConditionStatus, DURATION_PATTERN, type KubernetesSchemaOptions } from '../schema.ts';

/**
 * Schema building blocks shared by the kinds' schemas (TypeBox). Imported only where something is
 * validated or a CRD generated: the controller's hot path needs the constants and types of ../, not
 * these objects.
 */

/** A string that must be one of `values`; a plain `enum` (what structural CRD schemas want). */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: KubernetesSchemaOptions & { default?: T[number] },
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

export function Duration(options: KubernetesSchemaOptions & { default?: string }): TString {
  return Type.String({
    pattern: DURATION_PATTERN,
    maxLength: 32,
    ...options,
    'x-kubernetes-validations': [
      {
        rule: "duration(self) > duration('0s')",
        message: 'must be a positive duration such as 90s, 30m or 24h',
      },
      ...(options['x-kubernetes-validations'] ?? []),
    ],
  });
}

export function Timestamp(description: string): TString {
  return Type.String({ format: 'date-time', description });
}

/** Free-form JSON kept as written (the API server stores unknown fields instead of pruning them). */
export function FreeFormObject(
  options: KubernetesSchemaOptions & { maxProperties?: number },
): TUnsafe<Record<string, unknown>> {
  return Type.Unsafe<Record<string, unknown>>({
    type: 'object',
    'x-kubernetes-preserve-unknown-fields': true,
    ...options,
  });
}

/** A string map such as labels: `{ key: value }`. */
export function StringMap(
  options: KubernetesSchemaOptions & { maxProperties?: number },
): TUnsafe<Record<string, string>> {
  return Type.Unsafe<Record<string, string>>({
    type: 'object',
    additionalProperties: { type: 'string' },
    ...options,
  });
}

/** metav1.Condition, with the API server's own limits. */
export const ConditionSchema = Type.Object(
  {
    type: Type.String({
      description: 'Type of the condition, in CamelCase.',
      maxLength: 316,
      pattern:
        '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
    }),
    status: StringEnum(Object.values(ConditionStatus), { description: 'True, False or Unknown.' }),
    observedGeneration: Type.Optional(
      Type.Integer({
        format: 'int64',
        minimum: 0,
        description: 'The metadata.generation the condition was computed from.',
      }),
    ),
    lastTransitionTime: Timestamp('When the condition last changed status.'),
    reason: Type.String({
      description: 'Machine-readable reason for the last transition, in CamelCase.',
      minLength: 1,
      maxLength: 1024,
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
    }),
    message: Type.String({ description: 'Human-readable details of the last transition.', maxLength: 32768 }),
  },
  { description: 'A standard Kubernetes condition.' },
);
export function Conditions(description: string): ReturnType<typeof Type.Array<typeof ConditionSchema>> {
  return Type.Array(ConditionSchema, {
    description,
    maxItems: 16,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
  });
}
