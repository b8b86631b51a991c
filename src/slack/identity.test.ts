import { describe, expect, it } from 'vitest';
import {
  DEFAULT_IDENTITY_OPTIONS,
  linkSlackUser,
  type SlackAccount,
  type SlackIdentityOptions,
} from './identity.ts';

const home = { teamId: 'T0HOME', enterpriseId: undefined };

const account = (extra: Partial<SlackAccount> = {}): SlackAccount => ({
  id: 'U0ALICE',
  teamId: 'T0HOME',
  enterpriseId: undefined,
  deleted: false,
  bot: false,
  guest: false,
  email: 'Alice@Example.com',
  emailConfirmed: true,
  ...extra,
});

const byEmail: SlackIdentityOptions = { ...DEFAULT_IDENTITY_OPTIONS, usernameClaim: 'email' };

describe('linkSlackUser', () => {
  it('links through a SlackIdentity whatever the email says, and only through it by default', () => {
    expect(
      linkSlackUser({ account: account(), linkedUser: 'alice', home, options: DEFAULT_IDENTITY_OPTIONS }),
    ).toEqual({
      linked: true,
      kubernetesUser: 'alice',
      by: 'SlackIdentity',
    });
    const unlinked = linkSlackUser({
      account: account(),
      linkedUser: undefined,
      home,
      options: DEFAULT_IDENTITY_OPTIONS,
    });
    expect(unlinked).toMatchObject({ linked: false });
    expect(unlinked.linked ? '' : unlinked.why).toContain('not linked to a Kubernetes user');
  });

  it('links by confirmed email in lower case, after the configured prefix', () => {
    expect(linkSlackUser({ account: account(), linkedUser: undefined, home, options: byEmail })).toEqual({
      linked: true,
      kubernetesUser: 'alice@example.com',
      by: 'email',
    });
    const oidc = { ...byEmail, usernamePrefix: 'oidc:' };
    expect(linkSlackUser({ account: account(), linkedUser: undefined, home, options: oidc })).toMatchObject({
      kubernetesUser: 'oidc:alice@example.com',
    });
  });

  it.each<[string, Partial<SlackAccount>, string]>([
    ['an unconfirmed email', { emailConfirmed: false }, 'not confirmed'],
    ['no email', { email: undefined }, 'shows no email'],
    ['a deactivated account', { deleted: true }, 'deactivated'],
    ['a bot', { bot: true }, 'bots and apps cannot answer'],
    ['a guest', { guest: true }, 'guest accounts cannot answer'],
    ['a Slack Connect user of another organisation', { teamId: 'T0OTHER' }, 'another Slack workspace'],
  ])('refuses %s, and says why', (_case, extra, why) => {
    const link = linkSlackUser({ account: account(extra), linkedUser: undefined, home, options: byEmail });
    expect(link.linked ? '' : link.why).toContain(why);
  });

  it('refuses accounts it may not trust even when a SlackIdentity links them', () => {
    for (const extra of [{ deleted: true }, { bot: true }, { guest: true }, { teamId: 'T0OTHER' }]) {
      const link = linkSlackUser({ account: account(extra), linkedUser: 'alice', home, options: byEmail });
      expect(link.linked).toBe(false);
    }
  });

  it('lets in what the configuration allows: other teams, the organisation, guests', () => {
    const options = { ...byEmail, allowedTeams: ['T0PARTNER'], allowGuests: true };
    const partner = account({ teamId: 'T0PARTNER', guest: true });
    expect(linkSlackUser({ account: partner, linkedUser: undefined, home, options }).linked).toBe(true);
    const grid = { teamId: 'T0HOME', enterpriseId: 'E0ORG' };
    const sibling = account({ teamId: 'T0SIBLING', enterpriseId: 'E0ORG' });
    expect(
      linkSlackUser({ account: sibling, linkedUser: undefined, home: grid, options: byEmail }).linked,
    ).toBe(true);
  });
});
