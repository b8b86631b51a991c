import Type, { type Static } from 'typebox';
import type { API_VERSION, CelValidation, ObjectMeta } from './schema.ts';

export const SLACK_IDENTITY_KIND = 'SlackIdentity';
export const SLACK_IDENTITY_PLURAL = 'slackidentities';

/** Slack user ids: U… in a workspace, W… across an Enterprise Grid organisation. */
export const SLACK_USER_ID_PATTERN = '^[UW][A-Z0-9]{2,31}$';

export const SlackIdentitySpecSchema = Type.Object(
  {
    slackUser: Type.String({
      description: 'The Slack user id (U… or W…), as Slack shows it in a profile under "Copy member ID".',
      pattern: SLACK_USER_ID_PATTERN,
      maxLength: 32,
    }),
    kubernetesUser: Type.String({
      description:
        'The Kubernetes username of the same person, exactly as the API server authenticates them ' +
        '(with any OIDC username prefix), for example alice or oidc:alice@example.com.',
      minLength: 1,
      maxLength: 512,
    }),
  },
  {
    description:
      'Links one Slack user to one Kubernetes user: their answers in Slack are that person’s answers, counted ' +
      'once with their kubectl answers, and never for their own requests.',
    additionalProperties: false,
    'x-kubernetes-validations': [
      {
        rule: 'self == oldSelf',
        message: 'spec is immutable: delete the SlackIdentity and create a new one to link someone else',
      },
    ],
  },
);
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
