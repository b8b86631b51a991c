import Type, { type Static } from 'typebox';
import { Phase } from '../api/v1alpha1/approval-request.ts';
import { API_VERSION } from '../api/v1alpha1/schema.ts';
import { ApprovalRequestSpecSchema } from '../api/v1alpha1/schemas/approval-request.ts';
import { StringEnum, StringMap, Timestamp } from '../api/v1alpha1/schemas/building-blocks.ts';

/** The file format of `greenlight test`: policies, sample requests and what must happen to them. */
export const POLICY_TEST_KIND = 'ApprovalPolicyTest';

const SampleApprovalSchema = Type.Object(
  {
    approver: Type.String({
      description: 'Kubernetes username (via kubernetes) or Slack user id.',
      minLength: 1,
    }),
    via: Type.Optional(StringEnum(['kubernetes', 'slack'], { description: 'Default kubernetes.' })),
    groups: Type.Optional(
      Type.Array(Type.String(), {
        description:
          'Kubernetes groups (or Slack user groups) of the approver, to match the policy approvers.',
      }),
    ),
    kubernetesUser: Type.Optional(
      Type.String({
        description:
          'Via slack: the Kubernetes user the Slack user is linked to. Without it, a Slack answer cannot be ' +
          'related to anyone and does not count (as in a cluster).',
        minLength: 1,
      }),
    ),
    policy: Type.Optional(
      Type.String({
        description: 'The policy the answer is for; default: every policy with an escalation.',
        minLength: 1,
      }),
    ),
    decision: StringEnum(['Approve', 'Deny'], { description: 'Approve or Deny.' }),
    comment: Type.Optional(Type.String({ description: 'What the person said.' })),
    at: Type.Optional(Timestamp('When; defaults to the case time.')),
  },
  { additionalProperties: false },
);
export type SampleApproval = Static<typeof SampleApprovalSchema>;

const CaseSchema = Type.Object(
  {
    name: Type.String({ description: 'What the case shows.', minLength: 1 }),
    now: Type.Optional(Timestamp('Evaluation time for this case.')),
    request: Type.Object(
      {
        metadata: Type.Optional(
          Type.Object(
            {
              name: Type.Optional(Type.String()),
              labels: Type.Optional(StringMap({ description: 'Labels, for selectors.' })),
              annotations: Type.Optional(StringMap({ description: 'Annotations.' })),
              creationTimestamp: Type.Optional(Timestamp('When it was created; defaults to the case time.')),
            },
            { additionalProperties: false },
          ),
        ),
        spec: ApprovalRequestSpecSchema,
      },
      { additionalProperties: false },
    ),
    approvals: Type.Optional(Type.Array(SampleApprovalSchema)),
    expect: Type.Object(
      {
        phase: StringEnum(Object.values(Phase), { description: 'The phase the request must be in.' }),
        decidedBy: Type.Optional(Type.String({ description: 'The exact decidedBy, for final phases.' })),
        reason: Type.Optional(Type.String({ description: 'Text the reason must contain.' })),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type PolicyTestCase = Static<typeof CaseSchema>;

export const PolicyTestSchema = Type.Object(
  {
    apiVersion: Type.Literal(API_VERSION),
    kind: Type.Literal(POLICY_TEST_KIND),
    metadata: Type.Object({ name: Type.String({ minLength: 1 }) }, { additionalProperties: true }),
    namespace: Type.Optional(
      Type.String({
        description: "The requests' namespace; default: the policies' namespace, else default.",
      }),
    ),
    now: Type.Optional(Timestamp('Evaluation time of every case (default: when the test runs).')),
    policies: Type.Optional(
      Type.Array(Type.String(), {
        description:
          'Files or folders with ApprovalPolicy documents, relative to this file; default: this folder.',
      }),
    ),
    context: Type.Optional(
      Type.Array(Type.String(), {
        description:
          'Files or folders with the Kubernetes objects policies read as context, relative to this file.',
      }),
    ),
    cases: Type.Array(CaseSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);
export type PolicyTest = Static<typeof PolicyTestSchema>;
