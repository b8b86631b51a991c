import Type from 'typebox';
import type { ApprovalIntake } from '../api/v1alpha1/approval-intake.ts';
import { MAX_PARAMETERS_BYTES } from '../api/v1alpha1/approval-request.ts';
import { ApprovalRequestSpecSchema } from '../api/v1alpha1/schemas/approval-request.ts';
import { schemaProblems } from '../api/v1alpha1/validate.ts';
import { parseDuration } from '../policy/duration.ts';
import {
  admit,
  describeSender,
  intakeRequest,
  REQUESTED_EVENT,
  type AskingMessage,
  type IntakeRequest,
  type RequestedSpec,
} from './intake.ts';

/**
 * Slack intake's judgement of one asking message (pure): whether the sender may ask, whether the
 * payload is a request (validated against the ApprovalRequest spec's schema), and the request it
 * makes. Apart from intake.ts because only the Slack integration (loaded when Slack is configured)
 * validates payloads: the controller without Slack loads no schema (docs/benchmarks.md, F12).
 */

/** The payload's fields: what a machine may ask with (ApprovalRequest spec, without requester). */
const PayloadSchema = Type.Omit(ApprovalRequestSpecSchema, ['requester'], {
  additionalProperties: false,
});

/**
 * Checks event_payload against the same rules the API server applies to a request's spec, and says
 * which field is wrong. Slack leaves the payload out when the app's manifest does not subscribe to
 * the event type, which is said too.
 */
export function validatePayload(
  payload: Readonly<Record<string, unknown>> | undefined,
): { readonly spec: RequestedSpec } | { readonly problems: readonly string[] } {
  if (payload === undefined) {
    return {
      problems: [
        `event_payload is missing: Slack sends it only for metadata types the app subscribes to (add ${REQUESTED_EVENT} ` +
          "to metadata_subscriptions in Greenlight's app manifest)",
      ],
    };
  }
  const problems = schemaProblems(PayloadSchema, payload, 'event_payload').map((problem) =>
    problem.replace(/^event_payload: must have required properties (.+)$/, 'event_payload.$1: required'),
  );
  if (typeof payload['timeout'] === 'string' && parseDuration(payload['timeout']) === 0)
    problems.push('event_payload.timeout: must be a positive duration such as 90s, 30m or 24h');
  const size = Buffer.byteLength(JSON.stringify(payload['parameters'] ?? {}));
  if (size > MAX_PARAMETERS_BYTES)
    problems.push(`event_payload.parameters: ${size} bytes serialized, more than ${MAX_PARAMETERS_BYTES}`);
  if (problems.length > 0) return { problems };
  return { spec: payload as RequestedSpec };
}

/** The outcome of one asking message, as counted in greenlight_slack_intake_total{result}. */
export type IntakeResult = 'created' | 'duplicate' | 'refused' | 'invalid';

export type Verdict =
  | { readonly result: 'create'; readonly request: IntakeRequest }
  | { readonly result: 'refused' | 'invalid'; readonly why: string };

/** Everything intake decides about one asking message, given the intake that listens (if any). */
export function judgeMessage(message: AskingMessage, intake: ApprovalIntake | undefined): Verdict {
  if (!intake) {
    return {
      result: 'refused',
      why: 'no ApprovalIntake listens to this channel, so nobody may ask here',
    };
  }
  const where = `${intake.metadata.namespace ?? ''}/${intake.metadata.name ?? ''}`;
  const admitted = admit(intake, message.sender);
  if (!admitted) {
    return {
      result: 'refused',
      why: `${describeSender(message.sender)} may not ask here: ApprovalIntake ${where} lists who may (spec.senders)`,
    };
  }
  const checked = validatePayload(message.payload);
  if ('problems' in checked) return { result: 'invalid', why: checked.problems.join('; ') };
  return { result: 'create', request: intakeRequest(intake, message, admitted, checked.spec) };
}
