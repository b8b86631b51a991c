import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebClient } from '@slack/web-api';
import { describe, expect, it, type TestContext } from 'vitest';
import { verifySlackSignature } from '../../../src/slack/verify.ts';
import { startSlackEmulator, type SlackEmulator } from '../index.ts';

// The web view over HTTP, as a browser uses it (the browser itself: test/slack-web-view.test.ts): the
// page, the live stream of changes with resumption, and clicks signed and delivered to the app.

/** An emulator for one test (tests run concurrently), closed when the test ends. */
async function emulator(
  { onTestFinished }: TestContext,
  options: Parameters<typeof startSlackEmulator>[0] = {},
): Promise<{ slack: SlackEmulator; web: WebClient }> {
  const slack = await startSlackEmulator({ socketPingIntervalMs: 0, ...options });
  onTestFinished(() => slack.close());
  const web = new WebClient(slack.workspace.botToken, {
    slackApiUrl: slack.apiUrl,
    retryConfig: { retries: 0 },
  });
  return { slack, web };
}

interface StreamEvent {
  readonly id: string;
  readonly type: string;
  readonly data: Record<string, unknown>;
}

/** The complete events at the start of `text`, and what is left of it (an event still arriving). */
function splitEvents(text: string): { events: StreamEvent[]; rest: string } {
  const blocks = text.split('\n\n');
  const rest = blocks.pop() ?? '';
  const events = blocks.flatMap((block): StreamEvent[] => {
    const field = (name: string): string | undefined =>
      block
        .split('\n')
        .find((line) => line.startsWith(`${name}: `))
        ?.slice(name.length + 2);
    const type = field('event');
    if (!type) return [];
    return [
      { id: field('id') ?? '', type, data: JSON.parse(field('data') ?? '{}') as Record<string, unknown> },
    ];
  });
  return { events, rest };
}

/** Reads a server-sent event stream, as EventSource does; `next(n)` waits for the first n events. */
async function subscribe(url: string, headers: Record<string, string> = {}) {
  const abort = new AbortController();
  const response = await fetch(url, { headers, signal: abort.signal });
  const events: StreamEvent[] = [];
  let wake = (): void => undefined;
  const read = async (): Promise<void> => {
    const decoder = new TextDecoder();
    let buffer = '';
    const reader = response.body?.getReader();
    for (let chunk = await reader?.read(); chunk && !chunk.done; chunk = await reader?.read()) {
      const split = splitEvents(buffer + decoder.decode(chunk.value as Uint8Array, { stream: true }));
      buffer = split.rest;
      events.push(...split.events);
      wake();
    }
  };
  read().catch(() => undefined); // ends when the test aborts the request
  return {
    response,
    events,
    async next(count: number): Promise<StreamEvent[]> {
      const deadline = Date.now() + 5000;
      while (events.length < count) {
        if (Date.now() > deadline) throw new Error(`only ${events.length} of ${count} events arrived`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 100);
        });
      }
      return events.slice(0, count);
    },
    close: () => {
      abort.abort();
    },
  };
}

const seqOf = (page: string): number => Number(/data-seq="(\d+)"/.exec(page)?.[1]);

describe('the Slack emulator web view', () => {
  it('serves the page with its script and style, allowing nothing from elsewhere', async (context) => {
    const { slack, web } = await emulator(context);
    await web.chat.postMessage({ channel: '#payments-approvals', text: 'Approve *this*?' });
    const page = await fetch(slack.webUrl);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('Approve <strong>this</strong>?');
    expect(seqOf(html)).toBe(1);
    const script = await fetch(`${slack.webUrl}web/app.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toContain('new EventSource(`/web/events?after=');
    const style = await fetch(`${slack.webUrl}web/app.css`);
    expect(style.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect((await fetch(`${slack.webUrl}web/nothing`)).status).toBe(404);
  });

  it('streams each message as it is posted, edited, answered in a thread and deleted', async (context) => {
    const { slack, web } = await emulator(context);
    const stream = await subscribe(`${slack.webUrl}web/events?after=0`);
    expect(stream.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const posted = await web.chat.postMessage({ channel: '#payments-approvals', text: 'Approval needed' });
    const ts = posted.ts ?? '';
    await web.chat.update({ channel: 'C0PAYMENTS', ts, text: 'Approved by <@U0ALICE>' });
    await web.chat.postMessage({ channel: 'C0PAYMENTS', thread_ts: ts, text: ':white_check_mark: approved' });
    await web.chat.delete({ channel: 'C0PAYMENTS', ts });
    const [post, edit, reply, parent, removal] = await stream.next(5);
    stream.close();
    expect(post).toMatchObject({ id: '1', type: 'message', data: { channel: 'C0PAYMENTS', ts } });
    expect(post?.data['html']).toContain('Approval needed');
    expect(post?.data['html']).not.toContain('(edited)');
    expect(edit?.data['html']).toContain(
      'Approved by <span class="mention" data-user="U0ALICE">@alice</span>',
    );
    expect(edit?.data['html']).toContain('(edited)');
    expect(reply).toMatchObject({ type: 'message', data: { threadTs: ts } });
    expect(reply?.data['entry']).toContain('class="entry reply"');
    // The parent follows its reply: it now shows the size of its thread.
    expect(parent).toMatchObject({ type: 'message', data: { ts } });
    expect(parent?.data['html']).toContain('1 reply</button>');
    expect(removal).toMatchObject({ id: '4', type: 'remove', data: { channel: 'C0PAYMENTS', ts } });
  });

  it('resumes after the last change a page saw, from ?after= or Last-Event-ID', async (context) => {
    const { slack, web } = await emulator(context);
    await web.chat.postMessage({ channel: '#workflow-updates', text: 'first' });
    const seq = seqOf(await (await fetch(slack.webUrl)).text());
    await web.chat.postMessage({ channel: '#workflow-updates', text: 'second' });
    await web.chat.postEphemeral({ channel: '#workflow-updates', user: 'U0CAROL', text: 'just for carol' });

    for (const stream of [
      await subscribe(`${slack.webUrl}web/events?after=${seq}`),
      await subscribe(`${slack.webUrl}web/events`, { 'Last-Event-ID': String(seq) }),
    ]) {
      const [message, ephemeral] = await stream.next(2);
      stream.close();
      expect(message?.data['html']).toContain('second');
      expect(ephemeral).toMatchObject({
        type: 'ephemeral',
        data: { user: 'U0CAROL', text: 'just for carol' },
      });
      expect(ephemeral?.data['html']).toContain('Only visible to you');
      expect(stream.events).toHaveLength(2);
    }
  });

  it('delivers a click to the app signed as Slack signs it, as the person picked', async (context) => {
    const received: { headers: IncomingMessage['headers']; body: string }[] = [];
    const app = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push({ headers: request.headers, body });
        response.end();
      });
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const requestUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}/slack/events`;
    try {
      const { slack, web } = await emulator(context, { interactivityUrl: requestUrl });
      const posted = await web.chat.postMessage({ channel: '#payments-approvals', text: 'Approve?' });
      const click = {
        user: 'U0DAVE',
        channel: 'C0PAYMENTS',
        ts: posted.ts ?? '',
        actionId: 'greenlight_approve',
        blockId: 'greenlight_decision',
        value: '{"namespace":"finance","name":"payment-inv-43","uid":"u"}',
      };
      const answer = await fetch(`${slack.webUrl}web/click`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: slack.webUrl.slice(0, -1) },
        body: JSON.stringify(click),
      });
      expect(await answer.json()).toEqual({ ok: true, status: 200 });
      const [delivered] = received;
      const header = (name: string): string => String(delivered?.headers[name]);
      expect(
        verifySlackSignature({
          signingSecret: slack.workspace.signingSecret,
          timestamp: header('x-slack-request-timestamp'),
          signature: header('x-slack-signature'),
          rawBody: Buffer.from(delivered?.body ?? ''),
          nowSeconds: Math.floor(Date.now() / 1000),
        }),
      ).toBe('ok');
      const payload = JSON.parse(new URLSearchParams(delivered?.body).get('payload') ?? '{}') as {
        user: { id: string };
        actions: { action_id: string; value: string; block_id: string }[];
        container: { message_ts: string };
      };
      expect(payload.user.id).toBe('U0DAVE');
      expect(payload.container.message_ts).toBe(posted.ts);
      expect(payload.actions[0]).toMatchObject({
        action_id: 'greenlight_approve',
        block_id: 'greenlight_decision',
        value: click.value,
      });
    } finally {
      await new Promise((resolve) => app.close(resolve));
    }
  });

  it('refuses clicks from other origins, and says when the app cannot be reached', async (context) => {
    const { slack } = await emulator(context);
    const click = JSON.stringify({
      user: 'U0ALICE',
      channel: 'C0PAYMENTS',
      ts: '1.1',
      actionId: 'greenlight_approve',
      blockId: '',
      value: '',
    });
    const from = (origin: string, type = 'application/json') =>
      fetch(`${slack.webUrl}web/click`, {
        method: 'POST',
        headers: { 'Content-Type': type, Origin: origin },
        body: click,
      });
    expect((await from('https://evil.example')).status).toBe(403);
    // A form post (no preflight) is refused too.
    expect((await from(slack.webUrl.slice(0, -1), 'application/x-www-form-urlencoded')).status).toBe(403);
    const unreachable = await from(slack.webUrl.slice(0, -1));
    expect(await unreachable.json()).toEqual({
      ok: false,
      error: 'the app has no Request URL and no Socket Mode connection',
    });
  });
});
