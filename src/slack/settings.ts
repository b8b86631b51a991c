import { ConfigError, UsageError } from '../errors.ts';
import {
  DEFAULT_IDENTITY_OPTIONS,
  UsernameClaims,
  type SlackIdentityOptions,
  type UsernameClaim,
} from './identity.ts';

// Apart from the integration so that reading the settings does not load Slack's SDKs: a controller
// without Slack never loads them (src/controllers/manager.ts).

export interface SlackSettings {
  readonly botToken: string;
  readonly signingSecret: string | undefined;
  readonly appToken: string | undefined;
  readonly apiUrl: string | undefined;
  /** How Slack users are related to Kubernetes users; DEFAULT_IDENTITY_OPTIONS when absent. */
  readonly identity?: SlackIdentityOptions;
}

/** Slack settings from the environment (the contract's variables); undefined without a bot token. */
export function slackSettingsFromEnv(env: NodeJS.ProcessEnv): SlackSettings | undefined {
  const botToken = env['SLACK_BOT_TOKEN'];
  if (!botToken) return undefined;
  if (env['SLACK_APP_TOKEN'] && !env['SLACK_APP_TOKEN'].startsWith('xapp-')) {
    throw new ConfigError('SLACK_APP_TOKEN must be an app-level token (xapp-…) with connections:write');
  }
  // An empty variable (a Secret key left blank) means unset.
  const set = (name: string): string | undefined => (env[name] === '' ? undefined : env[name]);
  return {
    botToken,
    signingSecret: set('SLACK_SIGNING_SECRET'),
    appToken: set('SLACK_APP_TOKEN'),
    apiUrl: set('SLACK_API_URL'),
  };
}

/** The identity flags of `greenlight controller`, checked. */
export function slackIdentityOptionsFromFlags(flags: {
  readonly 'slack-username-claim'?: string | undefined;
  readonly 'slack-username-prefix'?: string | undefined;
  readonly 'slack-allowed-teams'?: string | undefined;
  readonly 'slack-allow-guests'?: boolean | undefined;
}): SlackIdentityOptions {
  const claim = flags['slack-username-claim'] ?? DEFAULT_IDENTITY_OPTIONS.usernameClaim;
  if (!isUsernameClaim(claim)) {
    throw new UsageError(`--slack-username-claim must be ${UsernameClaims.join(' or ')}, not "${claim}"`);
  }
  const prefix = flags['slack-username-prefix'] ?? '';
  if (prefix !== '' && claim !== 'email') {
    throw new UsageError('--slack-username-prefix applies to --slack-username-claim=email only');
  }
  const teams = (flags['slack-allowed-teams'] ?? '')
    .split(',')
    .map((team) => team.trim())
    .filter(Boolean);
  const wrong = teams.find((team) => !/^[TE][A-Z0-9]{2,31}$/.test(team));
  if (wrong !== undefined) {
    throw new UsageError(
      `--slack-allowed-teams takes Slack workspace (T…) or organisation (E…) ids, not "${wrong}"`,
    );
  }
  return {
    usernameClaim: claim,
    usernamePrefix: prefix,
    allowedTeams: teams,
    allowGuests: flags['slack-allow-guests'] ?? false,
  };
}

function isUsernameClaim(value: string): value is UsernameClaim {
  return (UsernameClaims as readonly string[]).includes(value);
}
