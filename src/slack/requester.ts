import { SLACK_REQUESTER_PREFIX, SlackUserAnnotation } from '../api/v1alpha1/approval-intake.ts';
import type { ApprovalRequest } from '../api/v1alpha1/approval-request.ts';

/**
 * Who asked, for a request made through Slack intake (requester `slack:<bot, app or user id>`): the
 * Slack user who posted the message (a bot's own user for a bot), recorded by the controller when it
 * made the request. Undefined for any other request.
 */
export function askingSlackUser(request: ApprovalRequest): string | undefined {
  if (!(request.spec.requester ?? '').startsWith(SLACK_REQUESTER_PREFIX)) return undefined;
  return request.metadata.annotations?.[SlackUserAnnotation];
}

/**
 * The Kubernetes users who are the requester of a Slack-born request besides `spec.requester`: the one
 * the asking Slack user is linked to. Neither they (with `greenlight approve`) nor the asking Slack user
 * (with a click) count as an approver of it, unless the policy allows self-approval.
 */
export async function requesterAliases(
  request: ApprovalRequest,
  linkedUser: (slackUser: string) => Promise<string | undefined>,
): Promise<readonly string[]> {
  const slackUser = askingSlackUser(request);
  if (slackUser === undefined) return [];
  const linked = await linkedUser(slackUser);
  return linked === undefined ? [] : [linked];
}
