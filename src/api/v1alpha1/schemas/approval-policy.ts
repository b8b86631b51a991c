import Type from 'typebox';
import { StringEnum, Duration, StringMap, Conditions } from './building-blocks.ts';
import { ACTION_PATTERN } from '../schema.ts';
import {
  RuleDecision,
  PolicyMode,
  NotifyOn,
  DEFAULT_ESCALATION_TIMEOUT,
  MAX_REQUIRED_APPROVALS,
  RESERVED_VARIABLE_NAMES,
  MAX_WEBHOOKS,
} from '../approval-policy.ts';

const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const CEL_IDENTIFIER = '^[a-zA-Z_][a-zA-Z0-9_]*$';
const MAX_CEL_LENGTH = 4096;

const LabelSelectorRequirementSchema = Type.Object(
  {
    key: Type.String({ description: 'The label key.', minLength: 1, maxLength: 317 }),
    operator: StringEnum(['In', 'NotIn', 'Exists', 'DoesNotExist'], {
      description: 'In, NotIn, Exists or DoesNotExist.',
    }),
    values: Type.Optional(
      Type.Array(Type.String({ maxLength: 63 }), {
        description: 'Values for In and NotIn; empty for Exists and DoesNotExist.',
        maxItems: 64,
      }),
    ),
  },
  {
    description: 'A label selector requirement, as in Kubernetes label selectors.',
    additionalProperties: false,
    'x-kubernetes-validations': [
      {
        rule: "self.operator in ['In', 'NotIn'] ? has(self.values) && size(self.values) > 0 : !has(self.values) || size(self.values) == 0",
        message: 'values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist',
      },
    ],
  },
);

export const SelectorSchema = Type.Object(
  {
    actions: Type.Optional(
      Type.Array(Type.String({ maxLength: 63, pattern: ACTION_PATTERN }), {
        description: 'Request actions this policy applies to; any when empty.',
        maxItems: 64,
      }),
    ),
    requesters: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 512 }), {
        description:
          'Glob patterns of requester usernames (* matches any run of characters, ? one character), ' +
          'for example system:serviceaccount:ci:*.',
        maxItems: 64,
      }),
    ),
    matchLabels: Type.Optional(
      StringMap({ description: 'Labels the request must carry.', maxProperties: 64 }),
    ),
    matchExpressions: Type.Optional(
      Type.Array(LabelSelectorRequirementSchema, {
        description: 'Label selector requirements on the request.',
        maxItems: 64,
      }),
    ),
  },
  {
    description:
      'Which requests in the namespace this policy applies to. Every given part must match; empty selects all.',
    additionalProperties: false,
  },
);

export const RuleSchema = Type.Object(
  {
    name: Type.String({
      description: 'Unique name of the rule.',
      minLength: 1,
      maxLength: 63,
      pattern: DNS_LABEL,
    }),
    when: Type.Optional(
      Type.String({
        description:
          'CEL expression returning bool. Variables: request, params (request.spec.parameters), now (timestamp) ' +
          'and each context entry by name. A rule without when always matches.',
        minLength: 1,
        maxLength: MAX_CEL_LENGTH,
      }),
    ),
    decision: StringEnum(Object.values(RuleDecision), { description: 'Approve, Deny, Escalate or Hold.' }),
    message: Type.Optional(
      Type.String({ description: 'Why, shown in the request status and to approvers.', maxLength: 1024 }),
    ),
  },
  { description: 'A rule; the first rule that matches decides.', additionalProperties: false },
);

export const ContextResourceSchema = Type.Object(
  {
    apiVersion: Type.String({
      description: 'API version of the object, for example v1 or apps/v1.',
      minLength: 1,
      maxLength: 253,
    }),
    kind: Type.String({
      description: 'Kind of the object, for example ConfigMap.',
      minLength: 1,
      maxLength: 63,
    }),
    namespace: Type.Optional(
      Type.String({
        description: "Namespace of the object; the policy's namespace when empty.",
        maxLength: 63,
      }),
    ),
    name: Type.Optional(Type.String({ description: 'Name of the object.', minLength: 1, maxLength: 253 })),
    nameExpression: Type.Optional(
      Type.String({
        description: 'CEL expression returning the name, for example "params.environment + \'-status\'".',
        minLength: 1,
        maxLength: MAX_CEL_LENGTH,
      }),
    ),
  },
  {
    description: 'The object to read.',
    additionalProperties: false,
    'x-kubernetes-validations': [
      {
        rule: 'has(self.name) != has(self.nameExpression)',
        message: 'set exactly one of name and nameExpression',
      },
    ],
  },
);

export const ContextSchema = Type.Object(
  {
    name: Type.String({
      description: 'The CEL variable name the object is bound to (null when the object does not exist).',
      minLength: 1,
      maxLength: 63,
      pattern: CEL_IDENTIFIER,
      'x-kubernetes-validations': [
        {
          rule: `!(self in [${RESERVED_VARIABLE_NAMES.map((name) => `'${name}'`).join(', ')}])`,
          message: 'must not be request, params, now or a CEL keyword',
        },
      ],
    }),
    resource: ContextResourceSchema,
  },
  { description: 'A live fact read from the cluster.', additionalProperties: false },
);

export const ApproversSchema = Type.Object(
  {
    slackUsers: Type.Optional(
      Type.Array(Type.String({ maxLength: 64 }), { description: 'Slack user ids.', maxItems: 256 }),
    ),
    slackUserGroups: Type.Optional(
      Type.Array(Type.String({ maxLength: 64 }), { description: 'Slack user group ids.', maxItems: 64 }),
    ),
    kubernetesUsers: Type.Optional(
      Type.Array(Type.String({ maxLength: 512 }), { description: 'Kubernetes usernames.', maxItems: 256 }),
    ),
    kubernetesGroups: Type.Optional(
      Type.Array(Type.String({ maxLength: 512 }), { description: 'Kubernetes groups.', maxItems: 64 }),
    ),
  },
  { description: 'Who may approve or deny.', additionalProperties: false },
);

const SlackChannelSchema = Type.Object(
  { channel: Type.String({ description: 'Slack channel id or #name.', minLength: 1, maxLength: 80 }) },
  { description: 'A Slack channel.', additionalProperties: false },
);

export const EscalationSchema = Type.Object(
  {
    slack: Type.Optional(SlackChannelSchema),
    approvers: ApproversSchema,
    requiredApprovals: Type.Optional(
      Type.Integer({
        description: 'Distinct approvers needed.',
        minimum: 1,
        maximum: MAX_REQUIRED_APPROVALS,
        default: 1,
      }),
    ),
    allowSelfApproval: Type.Optional(
      Type.Boolean({ description: 'Whether the requester may approve their own request.', default: false }),
    ),
    timeout: Type.Optional(
      Duration({
        description: 'How long people have to decide before the request expires.',
        default: DEFAULT_ESCALATION_TIMEOUT,
      }),
    ),
  },
  {
    description: 'Where and to whom undecided requests go.',
    additionalProperties: false,
    'x-kubernetes-validations': [
      {
        rule:
          '(has(self.approvers.slackUsers) && size(self.approvers.slackUsers) > 0) || ' +
          '(has(self.approvers.slackUserGroups) && size(self.approvers.slackUserGroups) > 0) || ' +
          '(has(self.approvers.kubernetesUsers) && size(self.approvers.kubernetesUsers) > 0) || ' +
          '(has(self.approvers.kubernetesGroups) && size(self.approvers.kubernetesGroups) > 0)',
        message: 'approvers must name at least one Slack user, Slack user group, Kubernetes user or group',
        fieldPath: '.approvers',
      },
    ],
  },
);

function outcomes(description: string) {
  return Type.Optional(
    Type.Array(
      StringEnum(Object.values(NotifyOn), { description: 'Approved, Denied, Escalated or Expired.' }),
      { description, maxItems: 4, 'x-kubernetes-list-type': 'set' },
    ),
  );
}

/** Secret keys as Kubernetes allows them. */
const SECRET_KEY = '^[-._a-zA-Z0-9]+$';
const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

export const WebhookSchema = Type.Object(
  {
    url: Type.String({
      description:
        'Where each outcome is POSTed, as a signed CloudEvent (docs/webhooks.md): http:// or https://, ' +
        'without user:password. Redirects are not followed; link-local and cloud metadata addresses are ' +
        'refused unless the controller runs with --webhook-allow-link-local.',
      minLength: 1,
      maxLength: 2048,
      pattern: '^https?://',
      'x-kubernetes-validations': [
        { rule: 'isURL(self)', message: 'must be an absolute http:// or https:// URL' },
        {
          rule: "!isURL(self) || url(self).getScheme() in ['http', 'https']",
          message: 'must be an http:// or https:// URL',
        },
        {
          rule: "!isURL(self) || url(self).getHostname() != ''",
          message: 'must name a host',
        },
        {
          rule: "!self.matches('^https?://[^/?#]*@')",
          message: 'must not carry user:password: the signature (secretRef) authenticates Greenlight',
        },
      ],
    }),
    secretRef: Type.Object(
      {
        name: Type.String({
          description: "A Secret in the policy's namespace.",
          minLength: 1,
          maxLength: 253,
          pattern: DNS_SUBDOMAIN,
        }),
        key: Type.String({
          description:
            'The key whose value is the signing secret, as Standard Webhooks writes it: whsec_ followed by ' +
            'base64 (at least 24 bytes).',
          minLength: 1,
          maxLength: 253,
          pattern: SECRET_KEY,
        }),
      },
      {
        description: 'The signing secret (Standard Webhooks): Greenlight signs, the receiver verifies.',
        additionalProperties: false,
      },
    ),
    on: outcomes('Which outcomes to POST; all of them when empty.'),
  },
  {
    description:
      'An automation server told about outcomes: at least once, retried with backoff for up to 24 hours, ' +
      'idempotent by the webhook-id header.',
    additionalProperties: false,
  },
);

export const NotifySchema = Type.Object(
  {
    slack: Type.Optional(SlackChannelSchema),
    on: outcomes('Which outcomes to announce in Slack; all of them when empty.'),
    webhooks: Type.Optional(
      Type.Array(WebhookSchema, {
        description: 'Automation servers to POST each outcome to, as signed CloudEvents (docs/webhooks.md).',
        maxItems: MAX_WEBHOOKS,
        'x-kubernetes-list-type': 'atomic',
        'x-kubernetes-validations': [
          { rule: 'self.all(w, self.exists_one(o, o.url == w.url))', message: 'webhook urls must be unique' },
        ],
      }),
    ),
  },
  {
    description: 'Who is told about decisions: a Slack channel, automation servers, or both.',
    additionalProperties: false,
    'x-kubernetes-validations': [
      {
        rule: 'has(self.slack) || (has(self.webhooks) && size(self.webhooks) > 0)',
        message: 'notify needs a Slack channel, webhooks, or both',
      },
    ],
  },
);

export const ApprovalPolicySpecSchema = Type.Object(
  {
    selector: Type.Optional(SelectorSchema),
    rules: Type.Optional(
      Type.Array(RuleSchema, {
        description: 'Ordered rules; the first that matches decides.',
        maxItems: 64,
        'x-kubernetes-list-type': 'atomic',
        'x-kubernetes-validations': [
          { rule: 'self.all(r, self.exists_one(o, o.name == r.name))', message: 'rule names must be unique' },
        ],
      }),
    ),
    context: Type.Optional(
      Type.Array(ContextSchema, {
        description: 'Live facts read from the cluster, each bound to a CEL variable by name.',
        maxItems: 16,
        'x-kubernetes-list-type': 'atomic',
        'x-kubernetes-validations': [
          {
            rule: 'self.all(c, self.exists_one(o, o.name == c.name))',
            message: 'context names must be unique',
          },
        ],
      }),
    ),
    defaultDecision: Type.Optional(
      StringEnum(Object.values(RuleDecision), {
        description: 'When no rule matches. Defaults to Escalate when escalation is set, else Deny.',
      }),
    ),
    escalation: Type.Optional(EscalationSchema),
    notify: Type.Optional(NotifySchema),
    mode: Type.Optional(
      StringEnum(Object.values(PolicyMode), {
        description: 'Enforce decides; DryRun records what it would have decided without deciding.',
        default: PolicyMode.Enforce,
      }),
    ),
  },
  {
    description: 'How requests in this namespace are decided.',
    additionalProperties: false,
    'x-kubernetes-validations': [
      {
        rule:
          "has(self.escalation) || ((!has(self.rules) || !self.rules.exists(r, r.decision == 'Escalate')) && " +
          "(!has(self.defaultDecision) || self.defaultDecision != 'Escalate'))",
        message: 'escalation is required when a rule or defaultDecision escalates',
        fieldPath: '.escalation',
        reason: 'FieldValueRequired',
      },
    ],
  },
);

export const ApprovalPolicyStatusSchema = Type.Object(
  {
    observedGeneration: Type.Optional(
      Type.Integer({
        format: 'int64',
        minimum: 0,
        description: 'The metadata.generation this status describes.',
      }),
    ),
    conditions: Type.Optional(
      Conditions('Ready: False with the error and its position when an expression or field is invalid.'),
    ),
  },
  { description: 'Whether the policy is in force.', additionalProperties: false },
);
