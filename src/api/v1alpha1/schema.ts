import Type, { type Static, type TString, type TUnsafe } from 'typebox';

/**
 * Schema building blocks shared by both kinds. The TypeBox schemas are the single source of truth:
 * the TypeScript types are derived with `Static<>`, the CRDs are generated from the same objects
 * (`crds.ts`), and `greenlight test` validates files offline against them.
 */

export interface CelValidation {
  readonly rule: string;
  readonly message: string;
  readonly fieldPath?: string;
  readonly reason?:
    'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

/** Options TypeBox passes through untouched into the generated OpenAPI schema. */
export interface KubernetesSchemaOptions {
  readonly description: string;
  readonly 'x-kubernetes-validations'?: readonly CelValidation[];
  readonly 'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  readonly 'x-kubernetes-list-map-keys'?: readonly string[];
  readonly 'x-kubernetes-map-type'?: 'atomic' | 'granular';
}

/** A string that must be one of `values`; a plain `enum` (what structural CRD schemas want). */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: KubernetesSchemaOptions & { default?: T[number] },
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

/** Go duration syntax as the contract writes it: `90s`, `30m`, `24h`, `1h30m`. */
export const DURATION_PATTERN = '^([0-9]+(ms|s|m|h))+$';

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

/**
 * A time as Kubernetes writes it (metav1.Time, RFC 3339 in UTC to the second): the one format of every
 * time Greenlight writes or prints, 2026-11-26T12:00:00Z.
 */
export function rfc3339(time: Date | string): string {
  const date = typeof time === 'string' ? new Date(time) : time;
  return Number.isNaN(date.getTime()) ? String(time) : date.toISOString().replace(/\.\d{3}Z$/, 'Z');
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

/** The action pattern of the contract; also used by policy selectors. */
export const ACTION_PATTERN = '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$';

export const ConditionStatus = { True: 'True', False: 'False', Unknown: 'Unknown' } as const;
export type ConditionStatus = (typeof ConditionStatus)[keyof typeof ConditionStatus];

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
export type Condition = Static<typeof ConditionSchema>;

export function Conditions(description: string): ReturnType<typeof Type.Array<typeof ConditionSchema>> {
  return Type.Array(ConditionSchema, {
    description,
    maxItems: 16,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
  });
}

/** The parts of metav1.ObjectMeta Greenlight reads; the API server validates the rest. */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string | Date;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export const GROUP = 'greenlight.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
