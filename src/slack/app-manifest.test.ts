import { readFile } from 'node:fs/promises';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { packagePath } from '../package-root.ts';
import { REQUESTED_EVENT } from './intake.ts';

interface Manifest {
  readonly oauth_config: { readonly scopes: { readonly bot: readonly string[] } };
  readonly settings: {
    readonly event_subscriptions: {
      readonly request_url: string;
      readonly bot_events: readonly string[];
      readonly metadata_subscriptions: readonly { readonly app_id: string; readonly event_type: string }[];
    };
    readonly interactivity: { readonly is_enabled: boolean; readonly request_url: string };
  };
}

/** The Web API methods Greenlight calls (src/slack/web.ts) and the bot scope each needs. */
const SCOPES_BY_METHOD = {
  'chat.postMessage': 'chat:write',
  'chat.update': 'chat:write',
  'chat.postEphemeral': 'chat:write',
  'reactions.add': 'reactions:write',
  'reactions.remove': 'reactions:write',
  'conversations.list': 'channels:read',
  'conversations.info': 'channels:read',
  'conversations.history': 'channels:history',
  'conversations.replies': 'channels:history',
  'usergroups.users.list': 'usergroups:read',
  'users.info': 'users:read',
} as const;

describe('the Slack app manifest users paste (examples/slack/app-manifest.yaml)', () => {
  it('asks for the scopes of every call Greenlight makes, events of the channels it is in, and intake metadata', async () => {
    const manifest = load(
      await readFile(packagePath('examples', 'slack', 'app-manifest.yaml'), 'utf8'),
    ) as Manifest;
    const scopes = manifest.oauth_config.scopes.bot;
    for (const [method, scope] of Object.entries(SCOPES_BY_METHOD)) expect(scopes, method).toContain(scope);
    // Private channels too, and the metadata of the messages that ask.
    expect(scopes).toEqual(
      expect.arrayContaining(['groups:read', 'groups:history', 'metadata.message:read']),
    );
    const events = manifest.settings.event_subscriptions;
    expect(events.bot_events).toEqual(['message.channels', 'message.groups']);
    expect(events.metadata_subscriptions).toContainEqual({ app_id: '*', event_type: REQUESTED_EVENT });
    expect(events.request_url).toMatch(/\/slack\/events$/);
    expect(manifest.settings.interactivity).toEqual({ is_enabled: true, request_url: events.request_url });
  });
});
