import type { ManagerOptions } from '../../src/controllers/manager.ts';
import type { ApprovalRequest } from '../../src/api/v1alpha1/approval-request.ts';
import type { GreenlightApi } from '../../src/k8s/greenlight-api.ts';
import { freeLoopbackPort } from '../../src/local-cluster/ports.ts';
import type { SlackIdentityOptions } from '../../src/slack/identity.ts';
import type { HttpClickResult, SlackEmulator } from '../slack-emulator/index.ts';
import { waitForCondition } from './controller.ts';
import { eventually } from './eventually.ts';

/** The controller's Slack settings for this emulator, with HTTP interactivity on a free port. */
export async function slackSettings(
  slack: SlackEmulator,
  options: { socket?: boolean; paceMs?: number; identity?: SlackIdentityOptions } = {},
): Promise<{ settings: NonNullable<ManagerOptions['slack']>; port: number }> {
  const port = await freeLoopbackPort();
  const settings = {
    settings: {
      botToken: slack.workspace.botToken,
      signingSecret: slack.workspace.signingSecret,
      appToken: options.socket ? slack.workspace.appToken : undefined,
      apiUrl: slack.apiUrl,
      ...(options.identity ? { identity: options.identity } : {}),
    },
    bindAddress: `127.0.0.1:${port}`,
    paceMs: options.paceMs ?? 200,
  };
  return { settings, port };
}

/** Waits until the request is escalated and Slack's tracking message is recorded in its status. */
export async function trackedInSlack(
  api: GreenlightApi,
  namespace: string,
  name: string,
): Promise<{ request: ApprovalRequest; channel: string; ts: string }> {
  await waitForCondition(api, namespace, name, 'Escalated');
  return eventually(async () => {
    const request = await api.getRequest(namespace, name);
    const slack = request.status?.slack;
    if (!slack?.ts) throw new Error('no tracking message recorded yet');
    return { request, channel: slack.channel, ts: slack.ts };
  });
}

export type HttpClick = Omit<Extract<Parameters<SlackEmulator['click']>[0], { via: 'http' }>, 'via'>;

/** A click delivered over HTTP, as Slack does it; the result has the status and the request sent. */
export async function httpClick(slack: SlackEmulator, options: HttpClick): Promise<HttpClickResult> {
  const result = await slack.click({ ...options, via: 'http' });
  if (result.via !== 'http') throw new Error('the emulator answered a socket click');
  return result;
}
