import Type from 'typebox';
import { StringEnum, Duration, Timestamp, FreeFormObject, Conditions } from './building-blocks.ts';
import { ACTION_PATTERN } from '../schema.ts';
import {
  Phase,
  Outcome,
  EvaluationResult,
  ApprovalVia,
  HumanDecision,
  WebhookResult,
  WebhookOutcome,
} from '../approval-request.ts';

export const ApprovalRequestSpecSchema = Type.Object(
  {
    action: Type.String({
      description: 'What the machine wants to do, for example deploy, payment or db-migrate.',
      minLength: 1,
      maxLength: 63,
      pattern: ACTION_PATTERN,
    }),
    resource: Type.Optional(
      Type.String({
        description: 'What the action acts on, for example web or invoice/INV-42.',
        maxLength: 253,
      }),
    ),
    parameters: Type.Optional(
      FreeFormObject({
        description:
          'The facts policy rules look at, as free-form JSON (for example version, environment, amount, currency). ' +
          'At most 16 KiB serialized: a larger request is denied by the controller, with the reason.',
        maxProperties: 128,
      }),
    ),
    requester: Type.Optional(
      Type.String({
        description:
          "Kubernetes username of whoever created the request. Greenlight's admission policy refuses a request " +
          'whose requester is not the authenticated user; the CLI fills it in, and on Kubernetes 1.36+ ' +
          "Greenlight's MutatingAdmissionPolicy fills an omitted one with the caller. A request made through " +
          'Slack intake (ApprovalIntake) has slack:<bot, app or user id>; only the controller may create those.',
        minLength: 1,
        maxLength: 512,
      }),
    ),
    reason: Type.Optional(Type.String({ description: 'Free text shown to approvers.', maxLength: 1024 })),
    timeout: Type.Optional(
      Duration({
        description:
          'How long the request may stay undecided (90s, 30m, 24h); capped by the policy. When it passes, the ' +
          'request becomes Expired.',
      }),
    ),
  },
  {
    description: 'What is asked. Immutable: an approval always applies to exactly what was asked.',
    additionalProperties: false,
    'x-kubernetes-validations': [
      {
        rule: 'self == oldSelf',
        message: 'spec is immutable: create a new ApprovalRequest to ask for something else',
      },
    ],
  },
);

export const DecisionSchema = Type.Object(
  {
    outcome: StringEnum(Object.values(Outcome), { description: 'Approved, Denied or Expired.' }),
    decidedBy: Type.String({
      description:
        'Who decided: policy:<policy>/<rule>, slack:<slack-user-id>, user:<kubernetes-username>, timeout, or ' +
        'controller (for example when no policy selects the request).',
      minLength: 1,
      maxLength: 600,
    }),
    reason: Type.String({ description: 'Why, in words.', maxLength: 4096 }),
    decidedAt: Timestamp('When the decision was made.'),
  },
  { description: 'The final decision; set once, never changed.', additionalProperties: false },
);

export const EvaluationSchema = Type.Object(
  {
    policy: Type.String({ description: 'Name of the ApprovalPolicy consulted.', maxLength: 253 }),
    rule: Type.Optional(
      Type.String({
        description: 'The rule that matched; absent when the default decision applied.',
        maxLength: 63,
      }),
    ),
    result: StringEnum(Object.values(EvaluationResult), {
      description: 'Approve, Deny, Escalate, Hold, NoMatch or Error.',
    }),
    message: Type.String({ description: 'The rule message, or what went wrong.', maxLength: 2048 }),
    policyGeneration: Type.Optional(
      Type.Integer({
        format: 'int64',
        minimum: 1,
        description:
          'The generation of the policy evaluated; answers name it (status.approvals[].policyGeneration).',
      }),
    ),
    dryRun: Type.Optional(
      Type.Boolean({ description: 'True when the policy runs in DryRun mode: recorded, never deciding.' }),
    ),
  },
  { description: 'What one policy said at the latest evaluation.', additionalProperties: false },
);

export const ApprovalSchema = Type.Object(
  {
    approver: Type.String({
      description: 'The Kubernetes username (via kubernetes) or Slack user id (via slack) of the person.',
      minLength: 1,
      maxLength: 512,
    }),
    via: StringEnum(Object.values(ApprovalVia), { description: 'slack or kubernetes.' }),
    decision: StringEnum(Object.values(HumanDecision), { description: 'Approve or Deny.' }),
    comment: Type.Optional(Type.String({ description: 'What the person said.', maxLength: 1024 })),
    at: Timestamp(
      'When the person says they answered. Shown, never trusted: answers are ordered by their position in the list.',
    ),
    policy: Type.String({
      description:
        'The escalating policy this answer is for, as status.evaluations names it. An answer counts for that ' +
        'policy only, and only while the policy is at policyGeneration.',
      minLength: 1,
      maxLength: 253,
    }),
    policyGeneration: Type.Integer({
      format: 'int64',
      minimum: 1,
      description:
        'The generation of the policy that asked (status.evaluations[].policyGeneration). When the policy ' +
        'changes, answers given to the earlier generation no longer count, and people may answer again.',
    }),
    kubernetesUser: Type.Optional(
      Type.String({
        description:
          'Answers via slack only: the Kubernetes user the Slack user is linked to, recorded by the controller ' +
          'when the answer arrived. A person counts once however they answer, and never for their own request.',
        minLength: 1,
        maxLength: 512,
      }),
    ),
    groups: Type.Optional(
      Type.Array(Type.String({ maxLength: 512 }), {
        description:
          "The approver's Kubernetes groups as the API server authenticated them when the entry was added " +
          "(Greenlight's admission policy refuses any other value); the controller's authorization check uses them.",
        maxItems: 64,
      }),
    ),
  },
  {
    description: "A person's approval or denial, for one policy.",
    additionalProperties: false,
    'x-kubernetes-validations': [
      {
        rule: "self.via == 'slack' || !has(self.kubernetesUser)",
        message: 'kubernetesUser is for answers via slack: an answer via kubernetes is by its approver',
        fieldPath: '.kubernetesUser',
      },
    ],
  },
);

export const SlackThreadSchema = Type.Object(
  {
    channel: Type.String({ description: 'Slack channel id.', maxLength: 64 }),
    ts: Type.String({ description: 'Timestamp of the message that tracks this request.', maxLength: 64 }),
  },
  {
    description: 'The Slack message (thread) that tracks this request, once posted.',
    additionalProperties: false,
  },
);

export const WebhookDeliverySchema = Type.Object(
  {
    url: Type.String({ description: 'The webhook, as the policy names it.', maxLength: 2048 }),
    outcome: StringEnum(Object.values(WebhookOutcome), {
      description: 'The outcome delivered: Approved, Denied, Escalated or Expired.',
    }),
    result: StringEnum(Object.values(WebhookResult), {
      description:
        'Delivered (the receiver answered 2xx), Failing (retried with backoff for up to 24 hours) or ' +
        'Refused (Greenlight will not send to that address).',
    }),
    attempts: Type.Integer({ minimum: 0, description: 'How many times it was sent.' }),
    lastAttemptAt: Timestamp('When it was last sent.'),
    message: Type.String({ description: 'What happened, in words.', maxLength: 1024 }),
  },
  { description: 'The last delivery of one outcome to one webhook.', additionalProperties: false },
);

/** The person behind an entry, as CEL: the same expression as personOf() in src/policy/person.ts. */
const personOf = (entry: string): string =>
  `(${entry}.via == 'kubernetes' ? ${entry}.approver : ` +
  `(has(${entry}.kubernetesUser) ? ${entry}.kubernetesUser : 'slack:' + ${entry}.approver)).lowerAscii()`;

/**
 * status.approvals is a ledger: what was said stays said, in the order it arrived (so nobody can move
 * their answer first or rewrite another's), and one person answers one policy generation once (so
 * one person cannot fill the list or count twice). Enforced for every writer, the controller too.
 */
const APPROVALS_VALIDATIONS = [
  {
    rule: 'oldSelf.all(i, a, i < size(self) && self[i] == a)',
    message: 'status.approvals is append-only: existing entries stay as they are, in order',
  },
  {
    rule:
      `self.all(a, self.exists_one(b, ${personOf('b')} == ${personOf('a')} && ` +
      'b.policy == a.policy && b.policyGeneration == a.policyGeneration))',
    // No FieldValueDuplicate reason: with it the API server prints "Duplicate value" instead of the message.
    message: 'status.approvals: a person answers each policy once (per policy generation)',
  },
] as const;

export const ApprovalRequestStatusSchema = Type.Object(
  {
    phase: Type.Optional(
      StringEnum(Object.values(Phase), {
        description:
          'Pending, then (Escalated), then one of the final phases Approved, Denied or Expired. A final phase never changes.',
      }),
    ),
    decision: Type.Optional(DecisionSchema),
    evaluations: Type.Optional(
      Type.Array(EvaluationSchema, {
        description: 'The why-trace: what every policy consulted said, at the latest evaluation.',
        maxItems: 64,
        'x-kubernetes-list-type': 'atomic',
      }),
    ),
    approvals: Type.Optional(
      Type.Array(ApprovalSchema, {
        description:
          "People's approvals and denials, in the order they arrived: entries are only ever appended, and each " +
          'person answers each policy (at a generation) once.',
        maxItems: 64,
        'x-kubernetes-list-type': 'atomic',
        'x-kubernetes-validations': APPROVALS_VALIDATIONS,
      }),
    ),
    observedApprovals: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          'How many entries of status.approvals the controller has counted; Slack shows progress only for those.',
      }),
    ),
    approvalProgress: Type.Optional(
      Type.String({
        description:
          "Approvals counted toward the escalating policies' quorums over those required, for example 1/2 " +
          '(kubectl get apr -o wide); the Escalated condition says it for each policy, with its approvers.',
        maxLength: 16,
      }),
    ),
    slack: Type.Optional(SlackThreadSchema),
    expiresAt: Type.Optional(Timestamp('When the request expires if still undecided.')),
    observedGeneration: Type.Optional(
      Type.Integer({
        format: 'int64',
        minimum: 0,
        description: 'The metadata.generation this status describes.',
      }),
    ),
    webhooks: Type.Optional(
      Type.Array(WebhookDeliverySchema, {
        description:
          'The last delivery of each outcome to each decision webhook (ApprovalPolicy spec.notify.webhooks). ' +
          'What is recorded Delivered is never sent again, also by another controller after a restart.',
        maxItems: 64,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['url', 'outcome'],
      }),
    ),
    conditions: Type.Optional(
      Conditions(
        'Decided, Approved, Denied and Escalated; for GitOps tools (kstatus): Ready (True iff Approved), ' +
          'Reconciling (True while undecided) and Stalled (True iff Denied or Expired); WebhooksDelivered ' +
          'once a webhook was due.',
      ),
    ),
  },
  { description: 'What Greenlight decided, and why.', additionalProperties: false },
);
