import { ConfigError } from '../errors.ts';

// Apart from the integration so that reading the settings does not load Slack's SDKs: a controller
// without Slack never loads them (src/controllers/manager.ts).

export interface SlackSettings {
  readonly botToken: string;
  readonly signingSecret: string | undefined;
  readonly appToken: string | undefined;
  readonly apiUrl: string | undefined;
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
