import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.ts';
import { slackIdentityOptionsFromFlags } from './settings.ts';

describe('slackIdentityOptionsFromFlags', () => {
  it('links by SlackIdentity only unless told otherwise', () => {
    expect(slackIdentityOptionsFromFlags({})).toEqual({
      usernameClaim: 'none',
      usernamePrefix: '',
      allowedTeams: [],
      allowGuests: false,
    });
  });

  it('reads every identity flag', () => {
    expect(
      slackIdentityOptionsFromFlags({
        'slack-username-claim': 'email',
        'slack-username-prefix': 'oidc:',
        'slack-allowed-teams': 'T0PARTNER, E0ORG',
        'slack-allow-guests': true,
      }),
    ).toEqual({
      usernameClaim: 'email',
      usernamePrefix: 'oidc:',
      allowedTeams: ['T0PARTNER', 'E0ORG'],
      allowGuests: true,
    });
  });

  it.each<[string, Parameters<typeof slackIdentityOptionsFromFlags>[0], string]>([
    ['an unknown claim', { 'slack-username-claim': 'sub' }, '--slack-username-claim must be email or none'],
    [
      'a prefix without the email claim',
      { 'slack-username-prefix': 'oidc:' },
      'applies to --slack-username-claim=email',
    ],
    ['a team that is not an id', { 'slack-allowed-teams': 'acme' }, 'not "acme"'],
  ])('refuses %s with a message naming the flag', (_case, flags, message) => {
    expect(() => slackIdentityOptionsFromFlags(flags)).toThrow(UsageError);
    expect(() => slackIdentityOptionsFromFlags(flags)).toThrow(message);
  });
});
