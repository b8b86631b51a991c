import type { Static } from 'typebox';
import type { API_VERSION, ObjectMeta } from './schema.ts';
import type {
  ApprovalRequestSpecSchema,
  DecisionSchema,
  EvaluationSchema,
  ApprovalSchema,
  WebhookDeliverySchema,
  ApprovalRequestStatusSchema,
} from './schemas/approval-request.ts';

export const APPROVAL_REQUEST_KIND = 'ApprovalRequest';
export const APPROVAL_REQUEST_PLURAL = 'approvalrequests';

/** Largest `spec.parameters`, serialized as JSON. */
export const MAX_PARAMETERS_BYTES = 16 * 1024;

export const Phase = {
  Pending: 'Pending',
  Escalated: 'Escalated',
  Approved: 'Approved',
  Denied: 'Denied',
  Expired: 'Expired',
} as const;
export type Phase = (typeof Phase)[keyof typeof Phase];
export const FINAL_PHASES: readonly Phase[] = [Phase.Approved, Phase.Denied, Phase.Expired];

export const Outcome = { Approved: 'Approved', Denied: 'Denied', Expired: 'Expired' } as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

/** What one policy (or one of its rules) said about a request. */
export const EvaluationResult = {
  Approve: 'Approve',
  Deny: 'Deny',
  Escalate: 'Escalate',
  Hold: 'Hold',
  NoMatch: 'NoMatch',
  Error: 'Error',
} as const;
export type EvaluationResult = (typeof EvaluationResult)[keyof typeof EvaluationResult];

export const ApprovalVia = { Slack: 'slack', Kubernetes: 'kubernetes' } as const;
export type ApprovalVia = (typeof ApprovalVia)[keyof typeof ApprovalVia];

export const HumanDecision = { Approve: 'Approve', Deny: 'Deny' } as const;
export type HumanDecision = (typeof HumanDecision)[keyof typeof HumanDecision];

export const RequestConditionType = {
  Decided: 'Decided',
  Approved: 'Approved',
  Denied: 'Denied',
  Escalated: 'Escalated',
  /** kstatus conventions (Flux, cli-utils, `kubectl wait`): True iff Approved. */
  Ready: 'Ready',
  /** True while undecided (Pending or Escalated): kstatus reads InProgress. */
  Reconciling: 'Reconciling',
  /** True iff Denied or Expired: kstatus reads Failed. */
  Stalled: 'Stalled',
  /** True when every due decision webhook is delivered; False while one fails or was refused. */
  WebhooksDelivered: 'WebhooksDelivered',
} as const;
export type RequestConditionType = (typeof RequestConditionType)[keyof typeof RequestConditionType];

export type ApprovalRequestSpec = Static<typeof ApprovalRequestSpecSchema>;

export type Decision = Static<typeof DecisionSchema>;

export type Evaluation = Static<typeof EvaluationSchema>;

export type Approval = Static<typeof ApprovalSchema>;

export const WebhookResult = { Delivered: 'Delivered', Failing: 'Failing', Refused: 'Refused' } as const;
export type WebhookResult = (typeof WebhookResult)[keyof typeof WebhookResult];

/** The outcomes a webhook is told about: the final phases and Escalated. */
export const WebhookOutcome = {
  Approved: 'Approved',
  Denied: 'Denied',
  Escalated: 'Escalated',
  Expired: 'Expired',
} as const;
export type WebhookOutcome = (typeof WebhookOutcome)[keyof typeof WebhookOutcome];

export type WebhookDelivery = Static<typeof WebhookDeliverySchema>;

const finalPhases = "['Approved', 'Denied', 'Expired']";

export type ApprovalRequestStatus = Static<typeof ApprovalRequestStatusSchema>;

/**
 * Rules on the whole object, so they also hold when an update drops the status: a final phase and
 * the decision never change.
 */
export const APPROVAL_REQUEST_VALIDATIONS = [
  {
    rule:
      `!has(oldSelf.status) || !has(oldSelf.status.phase) || !(oldSelf.status.phase in ${finalPhases}) || ` +
      '(has(self.status) && has(self.status.phase) && self.status.phase == oldSelf.status.phase)',
    message: 'status.phase is final: a request that is Approved, Denied or Expired never changes phase',
    fieldPath: '.status.phase',
  },
  {
    rule:
      '!has(oldSelf.status) || !has(oldSelf.status.decision) || ' +
      '(has(self.status) && has(self.status.decision) && self.status.decision == oldSelf.status.decision)',
    message: 'status.decision is final: once recorded it never changes',
    fieldPath: '.status.decision',
  },
  {
    rule:
      `!has(self.status) || !has(self.status.phase) || !(self.status.phase in ${finalPhases}) || ` +
      '(has(self.status.decision) && self.status.decision.outcome == self.status.phase)',
    message:
      'status.decision with the same outcome is required when status.phase is Approved, Denied or Expired',
    fieldPath: '.status.decision',
  },
] as const;

export interface ApprovalRequest {
  apiVersion: typeof API_VERSION;
  kind: typeof APPROVAL_REQUEST_KIND;
  metadata: ObjectMeta;
  spec: ApprovalRequestSpec;
  status?: ApprovalRequestStatus;
}

/**
 * A field selector for the requests that are not final yet (`.status.phase` is a selectable field of
 * the CRD). A request that becomes final leaves a watch with this selector as a deletion.
 */
export const UNDECIDED_FIELD_SELECTOR = FINAL_PHASES.map((phase) => `status.phase!=${phase}`).join(',');

export function isFinal(phase: Phase | undefined): boolean {
  return phase !== undefined && FINAL_PHASES.includes(phase);
}
