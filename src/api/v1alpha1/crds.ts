import { dump } from 'js-yaml';
import type { TSchema } from 'typebox';
import { APPROVAL_POLICY_KIND, APPROVAL_POLICY_PLURAL } from './approval-policy.ts';
import {
  APPROVAL_REQUEST_KIND,
  APPROVAL_REQUEST_PLURAL,
  APPROVAL_REQUEST_VALIDATIONS,
} from './approval-request.ts';
import { APPROVAL_INTAKE_KIND, APPROVAL_INTAKE_PLURAL } from './approval-intake.ts';
import { GROUP, VERSION, type CelValidation } from './schema.ts';
import { SLACK_IDENTITY_KIND, SLACK_IDENTITY_PLURAL, SLACK_IDENTITY_VALIDATIONS } from './slack-identity.ts';
import { ApprovalIntakeSpecSchema, ApprovalIntakeStatusSchema } from './schemas/approval-intake.ts';
import { ApprovalPolicySpecSchema, ApprovalPolicyStatusSchema } from './schemas/approval-policy.ts';
import { ApprovalRequestSpecSchema, ApprovalRequestStatusSchema } from './schemas/approval-request.ts';
import { SlackIdentitySpecSchema } from './schemas/slack-identity.ts';

/**
 * An OpenAPI v3 schema in its wire form. (client-node's V1JSONSchemaProps renames the x-kubernetes-*
 * keys for its serializer, so it cannot describe YAML written for kubectl.)
 */
export type OpenApiSchema = Readonly<Record<string, unknown>>;

export interface PrinterColumn {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  readonly jsonPath: string;
  readonly priority?: number;
}

export interface CustomResourceDefinition {
  readonly apiVersion: 'apiextensions.k8s.io/v1';
  readonly kind: 'CustomResourceDefinition';
  readonly metadata: { readonly name: string; readonly labels: Readonly<Record<string, string>> };
  readonly spec: {
    readonly group: string;
    readonly names: {
      readonly kind: string;
      readonly listKind: string;
      readonly plural: string;
      readonly singular: string;
      readonly shortNames: readonly string[];
      readonly categories: readonly string[];
    };
    readonly scope: 'Namespaced' | 'Cluster';
    readonly versions: readonly {
      readonly name: string;
      readonly served: boolean;
      readonly storage: boolean;
      readonly subresources?: { readonly status: Readonly<Record<string, never>> };
      readonly additionalPrinterColumns: readonly PrinterColumn[];
      readonly selectableFields?: readonly { readonly jsonPath: string }[];
      readonly schema: { readonly openAPIV3Schema: OpenApiSchema };
    }[];
  };
}

/**
 * Turns a TypeBox schema into a structural OpenAPI v3 schema the API server accepts. The only
 * difference is `additionalProperties: false`: structural schemas forbid it next to `properties`
 * (the API server prunes unknown fields instead, and `kubectl` reports them with strict field
 * validation), while offline validation keeps it to catch typos.
 */
export function toStructuralSchema(schema: TSchema): OpenApiSchema {
  return JSON.parse(
    JSON.stringify(schema, (key, value: unknown) =>
      key === 'additionalProperties' && value === false ? undefined : value,
    ),
  ) as OpenApiSchema;
}

interface KindDefinition {
  readonly kind: string;
  readonly plural: string;
  readonly shortName: string;
  readonly description: string;
  readonly scope?: 'Namespaced' | 'Cluster';
  readonly spec: TSchema;
  /** Absent: the kind has no status (nor a status subresource). */
  readonly status?: TSchema;
  readonly validations?: readonly CelValidation[];
  readonly printerColumns: readonly PrinterColumn[];
  /** `kubectl get <category>` lists the kind; default: the greenlight category. */
  readonly categories?: readonly string[];
  /** Fields a list or watch may filter on with a field selector (GA in Kubernetes 1.32). */
  readonly selectableFields?: readonly string[];
}

function customResourceDefinition(definition: KindDefinition): CustomResourceDefinition {
  const { kind, plural } = definition;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${GROUP}`, labels: { 'app.kubernetes.io/name': 'greenlight' } },
    spec: {
      group: GROUP,
      names: {
        kind,
        listKind: `${kind}List`,
        plural,
        singular: kind.toLowerCase(),
        shortNames: [definition.shortName],
        categories: definition.categories ?? ['greenlight'],
      },
      scope: definition.scope ?? 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          ...(definition.status ? { subresources: { status: {} } } : {}),
          additionalPrinterColumns: definition.printerColumns,
          ...(definition.selectableFields
            ? { selectableFields: definition.selectableFields.map((jsonPath) => ({ jsonPath })) }
            : {}),
          schema: {
            openAPIV3Schema: {
              description: definition.description,
              type: 'object',
              required: ['spec'],
              properties: {
                apiVersion: {
                  type: 'string',
                  description: 'APIVersion of this object: greenlight.dev/v1alpha1.',
                },
                kind: { type: 'string', description: `Kind of this object: ${kind}.` },
                metadata: { type: 'object' },
                spec: toStructuralSchema(definition.spec),
                ...(definition.status ? { status: toStructuralSchema(definition.status) } : {}),
              },
              ...(definition.validations ? { 'x-kubernetes-validations': definition.validations } : {}),
            },
          },
        },
      ],
    },
  };
}

export const approvalRequestCrd: CustomResourceDefinition = customResourceDefinition({
  kind: APPROVAL_REQUEST_KIND,
  plural: APPROVAL_REQUEST_PLURAL,
  shortName: 'apr',
  description:
    'A machine asks for approval to do something. ApprovalPolicies decide it, or people do in Slack or with ' +
    'greenlight approve; the decision is final and explained in status.',
  spec: ApprovalRequestSpecSchema,
  status: ApprovalRequestStatusSchema,
  validations: APPROVAL_REQUEST_VALIDATIONS,
  printerColumns: [
    { name: 'Action', type: 'string', jsonPath: '.spec.action' },
    { name: 'Resource', type: 'string', jsonPath: '.spec.resource' },
    { name: 'Requester', type: 'string', jsonPath: '.spec.requester' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'Decided-By', type: 'string', jsonPath: '.status.decision.decidedBy' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    { name: 'Approvals', type: 'string', jsonPath: '.status.approvalProgress', priority: 1 },
    { name: 'Expires', type: 'date', jsonPath: '.status.expiresAt', priority: 1 },
  ],
  // The controller watches undecided requests only (UNDECIDED_FIELD_SELECTOR); people can filter too,
  // e.g. kubectl get apr --field-selector status.phase=Escalated,spec.requester=…
  selectableFields: ['.status.phase', '.spec.action', '.spec.requester'],
});

export const approvalPolicyCrd: CustomResourceDefinition = customResourceDefinition({
  kind: APPROVAL_POLICY_KIND,
  plural: APPROVAL_POLICY_PLURAL,
  shortName: 'apol',
  description:
    'Rules, written in CEL, that approve, deny, hold or escalate the ApprovalRequests of its namespace, and ' +
    'who may approve what the rules escalate.',
  spec: ApprovalPolicySpecSchema,
  status: ApprovalPolicyStatusSchema,
  printerColumns: [
    { name: 'Mode', type: 'string', jsonPath: '.spec.mode' },
    { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    {
      name: 'Reason',
      type: 'string',
      jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
      priority: 1,
    },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
});

export const slackIdentityCrd: CustomResourceDefinition = customResourceDefinition({
  kind: SLACK_IDENTITY_KIND,
  plural: SLACK_IDENTITY_PLURAL,
  shortName: 'slid',
  scope: 'Cluster',
  // Not in the greenlight category: `kubectl get greenlight -n NS` shows a namespace's requests and
  // policies, not the cluster's identity links.
  categories: [],
  description:
    'Links a Slack user to the Kubernetes user they are, so that one person is one approver across Slack and ' +
    'Kubernetes. Cluster-scoped: only whoever may create it (by default cluster administrators) links identities.',
  spec: SlackIdentitySpecSchema,
  validations: SLACK_IDENTITY_VALIDATIONS,
  printerColumns: [
    { name: 'Slack-User', type: 'string', jsonPath: '.spec.slackUser' },
    { name: 'Kubernetes-User', type: 'string', jsonPath: '.spec.kubernetesUser' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
});

export const approvalIntakeCrd: CustomResourceDefinition = customResourceDefinition({
  kind: APPROVAL_INTAKE_KIND,
  plural: APPROVAL_INTAKE_PLURAL,
  shortName: 'aint',
  description:
    'A Slack channel where machines ask for approvals, and who may ask there. A message carrying Slack message ' +
    'metadata greenlight_approval_requested becomes an ApprovalRequest in this namespace, answered in the ' +
    "message's thread.",
  spec: ApprovalIntakeSpecSchema,
  status: ApprovalIntakeStatusSchema,
  printerColumns: [
    { name: 'Channel', type: 'string', jsonPath: '.spec.slack.channel' },
    { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    {
      name: 'Reason',
      type: 'string',
      jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
      priority: 1,
    },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
});

export const CRDS: readonly CustomResourceDefinition[] = [
  approvalRequestCrd,
  approvalPolicyCrd,
  approvalIntakeCrd,
  slackIdentityCrd,
];

/** The file each CRD is written to, relative to the repository root. */
export function crdFileName(crd: CustomResourceDefinition): string {
  return `crds/${crd.metadata.name}.yaml`;
}

export function renderCrdYaml(crd: CustomResourceDefinition): string {
  const header = '# Generated by `npm run generate` from src/api/v1alpha1. Do not edit by hand.\n';
  return header + dump(crd, { lineWidth: 120, noRefs: true });
}
