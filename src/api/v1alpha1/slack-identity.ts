import type { Static } from 'typebox';
import type { API_VERSION, CelValidation, ObjectMeta } from './schema.ts';
import type { SlackIdentitySpecSchema } from './schemas/slack-identity.ts';

export const SLACK_IDENTITY_KIND = 'SlackIdentity';
export const SLACK_IDENTITY_PLURAL = 'slackidentities';

/** Slack user ids: U… in a workspace, W… across an Enterprise Grid organisation. */
export const SLACK_USER_ID_PATTERN = '^[UW][A-Z0-9]{2,31}$';

export type SlackIdentitySpec = Static<typeof SlackIdentitySpecSchema>;

/**
 * The object is named after the Slack user, so the API server itself keeps a Slack user linked to at
 * most one Kubernetes user.
 */
export const SLACK_IDENTITY_VALIDATIONS: readonly CelValidation[] = [
  {
    rule: 'self.metadata.name == self.spec.slackUser.lowerAscii()',
    message: 'metadata.name must be spec.slackUser in lower case (U0ALICE is named u0alice)',
  },
];

export interface SlackIdentity {
  apiVersion: typeof API_VERSION;
  kind: typeof SLACK_IDENTITY_KIND;
  metadata: ObjectMeta;
  spec: SlackIdentitySpec;
}

/** The name a Slack user's SlackIdentity must have. */
export function slackIdentityName(slackUser: string): string {
  return slackUser.toLowerCase();
}
