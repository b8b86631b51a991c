import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from '../body.ts';
import { isJsonObject, parseJson, type JsonObject } from '../json.ts';
import type { EphemeralMessage, PostedMessage, StoreChange } from '../messages.ts';
import type { Workspace } from '../workspace.ts';
import {
  entryId,
  isReply,
  messageView,
  renderEphemeral,
  renderMessage,
  renderPage,
  replyEntry,
  workspaceDirectory,
  type MessageView,
} from './render.ts';

/**
 * The emulator's web view: a page that looks and works like a Slack workspace for what Greenlight
 * does. `GET /` renders every channel as it is now; `GET /web/events` streams each later change as a
 * server-sent event (a message posted, edited or deleted, an ephemeral message), resuming after the
 * last event a page saw; `POST /web/click` delivers a button click to the app as the chosen person,
 * signed as Slack signs it. The page never sees a token or the signing secret: clicks are signed here.
 */

/** A click on a button of a message, as the page sends it. */
export interface PageClick {
  readonly user: string;
  readonly channel: string;
  readonly ts: string;
  readonly actionId: string;
  readonly blockId: string;
  readonly value: string;
}

/** What became of a click: delivered (and the app's HTTP status), or why not. */
export type PageClickAnswer =
  | { readonly ok: true; readonly status?: number }
  | { readonly ok: false; readonly error: string; readonly status?: number };

/** What the view reads from the emulator, and how it delivers clicks. */
export interface WebViewSource {
  readonly workspace: Workspace;
  messages(channel?: string): readonly PostedMessage[];
  message(channel: string, ts: string): PostedMessage | undefined;
  ephemerals(): readonly EphemeralMessage[];
  deliverClick(click: PageClick): Promise<PageClickAnswer>;
}

const ASSETS: Readonly<Record<string, { readonly file: string; readonly type: string }>> = {
  '/web/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/web/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

/** The page allows only its own script, style and stream: nothing inline, nothing from elsewhere. */
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

const KEEPALIVE_MS = 15_000;
const MAX_CLICK_BYTES = 64 * 1024;
const DEFAULT_VIEWER = 'U0ALICE';

interface Stream {
  readonly response: ServerResponse;
}

/** One server-sent event. */
export function sseEvent(id: number, type: string, data: JsonObject): string {
  return `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The fields of a click, when the body is one. */
export function parseClick(body: string): PageClick | undefined {
  const value = parseJson(body);
  if (!isJsonObject(value)) return undefined;
  const fields = ['user', 'channel', 'ts', 'actionId', 'blockId', 'value'] as const;
  const click: Partial<Record<(typeof fields)[number], string>> = {};
  for (const field of fields) {
    const given = value[field];
    if (typeof given !== 'string') return undefined;
    click[field] = given;
  }
  return click as PageClick;
}

/**
 * Whether a request comes from the page itself: addressed to this loopback server by name (not a
 * rebound DNS name) and, when the browser says where from, from this origin. Clicks are signed with
 * the workspace's secret, so another site must not be able to make them.
 */
export function isSameOrigin(headers: IncomingMessage['headers'], port: number): boolean {
  const hosts = [`127.0.0.1:${port}`, `localhost:${port}`];
  if (!hosts.includes(headers.host ?? '')) return false;
  const origin = headers.origin;
  return origin === undefined || hosts.some((host) => origin === `http://${host}`);
}

export class WebView {
  readonly #source: WebViewSource;
  readonly #assetsDir: URL;
  readonly #streams = new Set<Stream>();
  /** The sequence number of each message's latest change, by `channel/ts`. */
  readonly #changedAt = new Map<string, number>();
  readonly #ephemeralSeqs: number[] = [];
  #seq = 0;
  #keepalive: NodeJS.Timeout | undefined;

  constructor(source: WebViewSource, assetsDir = new URL('./assets/', import.meta.url)) {
    this.#source = source;
    this.#assetsDir = assetsDir;
  }

  /** Whether the view answers this path. */
  handles(path: string): boolean {
    return path === '/' || path.startsWith('/web/');
  }

  async handle(request: IncomingMessage, response: ServerResponse, url: URL, port: number): Promise<void> {
    const route = `${request.method ?? 'GET'} ${url.pathname}`;
    if (route === 'GET /') {
      this.#page(response, url.searchParams.get('as') ?? DEFAULT_VIEWER);
    } else if (route === 'GET /web/events') {
      this.#subscribe(request, response, url);
    } else if (route === 'POST /web/click') {
      await this.#click(request, response, port);
    } else if (request.method === 'GET' && ASSETS[url.pathname]) {
      await this.#asset(response, url.pathname);
    } else {
      plain(response, 404, 'not found');
    }
  }

  /** Records a change of the store and sends it to every open page. */
  changed(change: StoreChange): void {
    this.#seq += 1;
    if (change.kind === 'ephemeral') {
      this.#ephemeralSeqs.push(this.#seq);
      if (this.#streams.size > 0) this.#broadcast(this.#ephemeralEvent(change.ephemeral));
      return;
    }
    // A reply changes its parent too: the parent shows how many replies it has.
    const parent = change.threadTs !== undefined && change.threadTs !== change.ts ? [change.threadTs] : [];
    const touched = [change.ts, ...parent];
    for (const ts of touched) this.#changedAt.set(key(change.channel, ts), this.#seq);
    if (this.#streams.size === 0) return; // nobody watching: nothing to render
    this.#broadcast(touched.map((ts) => this.#messageEvent(change.channel, ts)).join(''));
  }

  close(): void {
    clearInterval(this.#keepalive);
    this.#keepalive = undefined;
    for (const stream of this.#streams) stream.response.destroy();
    this.#streams.clear();
  }

  #page(response: ServerResponse, viewer: string): void {
    const messages = this.#views();
    const html = renderPage({
      workspace: this.#source.workspace,
      messages,
      ephemerals: this.#source.ephemerals(),
      seq: this.#seq,
      viewer,
    });
    response.writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    response.end(html);
  }

  #views(): MessageView[] {
    const live = this.#source.messages().filter((message) => !message.deleted);
    return live.map((message) =>
      messageView(message, replyCount(live, message), workspaceDirectory(this.#source.workspace)),
    );
  }

  #subscribe(request: IncomingMessage, response: ServerResponse, url: URL): void {
    const lastEventId = request.headers['last-event-id'];
    const after = Number(
      (typeof lastEventId === 'string' ? lastEventId : url.searchParams.get('after')) ?? 0,
    );
    response.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Content-Type-Options': 'nosniff',
    });
    response.write(`retry: 1000\n\n${this.#since(Number.isFinite(after) ? after : 0)}`);
    const stream = { response };
    this.#streams.add(stream);
    response.once('close', () => this.#streams.delete(stream));
    this.#keepalive ??= setInterval(() => {
      this.#broadcast(': keepalive\n\n');
    }, KEEPALIVE_MS).unref();
  }

  /** What changed after `after`, oldest message first (a parent before its replies). */
  #since(after: number): string {
    const changed = [...this.#changedAt]
      .filter(([, seq]) => seq > after)
      .map(([id]) => {
        const [channel = '', ts = ''] = id.split('/');
        return { channel, ts };
      })
      .sort((left, right) => Number(left.ts) - Number(right.ts));
    const ephemerals = this.#source
      .ephemerals()
      .filter((_ephemeral, index) => (this.#ephemeralSeqs[index] ?? 0) > after);
    return [
      ...changed.map(({ channel, ts }) => this.#messageEvent(channel, ts)),
      ...ephemerals.map((ephemeral) => this.#ephemeralEvent(ephemeral)),
    ].join('');
  }

  #messageEvent(channel: string, ts: string): string {
    const message = this.#source.message(channel, ts);
    const id = entryId(channel, ts);
    if (!message) return sseEvent(this.#seq, 'remove', { id, channel, ts });
    const live = this.#source.messages(channel).filter((other) => !other.deleted);
    const directory = workspaceDirectory(this.#source.workspace);
    const view = messageView(message, replyCount(live, message), directory);
    return sseEvent(this.#seq, 'message', {
      id,
      channel,
      ts,
      ...(isReply(view) && view.threadTs !== undefined ? { threadTs: view.threadTs } : {}),
      html: renderMessage(view, directory),
      entry: isReply(view) ? replyEntry(view, directory) : '',
    });
  }

  #ephemeralEvent(ephemeral: EphemeralMessage): string {
    return sseEvent(this.#seq, 'ephemeral', {
      channel: ephemeral.channel,
      ts: ephemeral.messageTs,
      user: ephemeral.user,
      text: ephemeral.text,
      html: renderEphemeral(ephemeral, workspaceDirectory(this.#source.workspace)),
    });
  }

  #broadcast(text: string): void {
    for (const stream of this.#streams) stream.response.write(text);
  }

  async #click(request: IncomingMessage, response: ServerResponse, port: number): Promise<void> {
    const json = (request.headers['content-type'] ?? '').startsWith('application/json');
    if (!isSameOrigin(request.headers, port) || !json) {
      plain(response, 403, 'clicks come from the page only');
      return;
    }
    const body = await readBody(request, MAX_CLICK_BYTES);
    const click = body === undefined ? undefined : parseClick(body);
    if (!click) {
      plain(response, 400, 'expected {user, channel, ts, actionId, blockId, value}');
      return;
    }
    const answer = await this.#source.deliverClick(click).catch((error: unknown): PageClickAnswer => ({
      ok: false,
      error: `the click could not be delivered (${error instanceof Error ? error.message : String(error)})`,
    }));
    const text = JSON.stringify(answer);
    response.writeHead(200, {
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
    });
    response.end(text);
  }

  async #asset(response: ServerResponse, path: string): Promise<void> {
    const asset = ASSETS[path];
    if (!asset) return;
    const content = await readFile(new URL(asset.file, this.#assetsDir)).catch(() => undefined);
    if (content === undefined) {
      plain(response, 500, `the web view's ${asset.file} is missing next to ${this.#assetsDir.pathname}`);
      return;
    }
    response.writeHead(200, {
      'Content-Type': asset.type,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    response.end(content);
  }
}

const key = (channel: string, ts: string): string => `${channel}/${ts}`;

function replyCount(live: readonly PostedMessage[], message: PostedMessage): number {
  if (isReply(message)) return 0;
  return live.filter(
    (other) => other.channel === message.channel && other.threadTs === message.ts && isReply(other),
  ).length;
}

function plain(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  response.end(text);
}
