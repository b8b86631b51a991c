import type { Static } from 'typebox';
import type { ConditionSchema } from './schemas/building-blocks.ts';

/**
 * What every kind shares: the API group, object metadata, conditions, patterns and times. The TypeBox
 * schemas (schemas/) are the single source of truth: the TypeScript types are derived from them with
 * `Static<>` (type-only imports), the CRDs are generated from the same objects (`crds.ts`), and
 * `greenlight test` and Slack intake validate against them. This module and the kinds' own
 * (approval-request.ts, …) hold the constants and types and load no TypeBox: the controller builds no
 * schema unless it validates something (docs/benchmarks.md, F12).
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

/** Go duration syntax as the contract writes it: `90s`, `30m`, `24h`, `1h30m`. */
export const DURATION_PATTERN = '^([0-9]+(ms|s|m|h))+$';

/**
 * A time as Kubernetes writes it (metav1.Time, RFC 3339 in UTC to the second): the one format of every
 * time Greenlight writes or prints, 2026-11-26T12:00:00Z.
 */
export function rfc3339(time: Date | string): string {
  const date = typeof time === 'string' ? new Date(time) : time;
  return Number.isNaN(date.getTime()) ? String(time) : date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The action pattern of the contract; also used by policy selectors. */
export const ACTION_PATTERN = '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$';

export const ConditionStatus = { True: 'True', False: 'False', Unknown: 'Unknown' } as const;
export type ConditionStatus = (typeof ConditionStatus)[keyof typeof ConditionStatus];

export type Condition = Static<typeof ConditionSchema>;

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
