import type { Static } from 'typebox';
import type { API_VERSION, ObjectMeta } from './schema.ts';
import type {
  SelectorSchema,
  RuleSchema,
  ContextSchema,
  ApproversSchema,
  EscalationSchema,
  WebhookSchema,
  NotifySchema,
  ApprovalPolicySpecSchema,
  ApprovalPolicyStatusSchema,
} from './schemas/approval-policy.ts';

export const APPROVAL_POLICY_KIND = 'ApprovalPolicy';
export const APPROVAL_POLICY_PLURAL = 'approvalpolicies';

export const RuleDecision = { Approve: 'Approve', Deny: 'Deny', Escalate: 'Escalate', Hold: 'Hold' } as const;
export type RuleDecision = (typeof RuleDecision)[keyof typeof RuleDecision];

export const PolicyMode = { Enforce: 'Enforce', DryRun: 'DryRun' } as const;
export type PolicyMode = (typeof PolicyMode)[keyof typeof PolicyMode];

export const NotifyOn = {
  Approved: 'Approved',
  Denied: 'Denied',
  Escalated: 'Escalated',
  Expired: 'Expired',
} as const;
export type NotifyOn = (typeof NotifyOn)[keyof typeof NotifyOn];

export const PolicyConditionType = { Ready: 'Ready' } as const;

export const DEFAULT_ESCALATION_TIMEOUT = '24h';
export const MAX_REQUIRED_APPROVALS = 10;

/** Names a `context` entry cannot take: they are the other CEL variables, or CEL keywords. */
export const RESERVED_VARIABLE_NAMES = [
  'request',
  'params',
  'now',
  'true',
  'false',
  'null',
  'in',
  'as',
  'break',
  'const',
  'continue',
  'else',
  'for',
  'function',
  'if',
  'import',
  'let',
  'loop',
  'package',
  'namespace',
  'return',
  'var',
  'void',
  'while',
] as const;

export type Selector = Static<typeof SelectorSchema>;

export type Rule = Static<typeof RuleSchema>;

export type ContextEntry = Static<typeof ContextSchema>;

export type Approvers = Static<typeof ApproversSchema>;

export type Escalation = Static<typeof EscalationSchema>;

export type Webhook = Static<typeof WebhookSchema>;

export const MAX_WEBHOOKS = 8;

export type Notify = Static<typeof NotifySchema>;

export type ApprovalPolicySpec = Static<typeof ApprovalPolicySpecSchema>;

export type ApprovalPolicyStatus = Static<typeof ApprovalPolicyStatusSchema>;

export interface ApprovalPolicy {
  apiVersion: typeof API_VERSION;
  kind: typeof APPROVAL_POLICY_KIND;
  metadata: ObjectMeta;
  spec: ApprovalPolicySpec;
  status?: ApprovalPolicyStatus;
}
