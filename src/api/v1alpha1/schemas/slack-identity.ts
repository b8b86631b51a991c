import Type from 'typebox';
import { SLACK_USER_ID_PATTERN } from '../slack-identity.ts';

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
