import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type RequestOptions,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { messageOf, WebhookRefusedError } from '../errors.ts';
import { refusedAddress, refusedHost } from './address.ts';

/** What became of one POST. */
export type PostResult =
  | { readonly kind: 'delivered'; readonly message: string }
  | { readonly kind: 'failed'; readonly message: string }
  | { readonly kind: 'refused'; readonly message: string };

export interface PostOptions {
  /** --webhook-allow-link-local: send to link-local and cloud metadata addresses too. */
  readonly allowLinkLocal: boolean;
  readonly timeoutMs: number;
}

/** How much of a receiver's answer is read (it is only shown, shortened, in status). */
const MAX_ANSWER_BYTES = 4096;

/**
 * A DNS lookup that refuses link-local and metadata addresses at connect time, so a name that
 * resolves (or later re-resolves, DNS rebinding) to one is never connected to.
 */
const guardedLookup = ((
  hostname: string,
  options: { all?: boolean },
  callback: (...args: unknown[]) => void,
): void => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) {
      callback(error);
      return;
    }
    const refused = addresses.map((found) => refusedAddress(found.address)).find((why) => why !== undefined);
    if (refused !== undefined) {
      callback(new WebhookRefusedError(`${hostname} resolves to ${refused}`));
      return;
    }
    const [first] = addresses;
    if (options.all) callback(null, addresses);
    else callback(null, first?.address, first?.family);
  });
  // Node's LookupFunction is overloaded on `all`; this one answers both forms, which its type cannot say.
}) as unknown as LookupFunction;

function answered(response: IncomingMessage, body: string): PostResult {
  const status = response.statusCode ?? 0;
  const said = body.trim().replace(/\s+/g, ' ').slice(0, 200);
  const detail = said ? `: ${said}` : '';
  if (status >= 200 && status < 300) return { kind: 'delivered', message: `HTTP ${status}` };
  if (status >= 300 && status < 400) {
    return {
      kind: 'failed',
      message: `HTTP ${status}: redirects are not followed (to ${response.headers.location ?? 'nowhere'})`,
    };
  }
  return { kind: 'failed', message: `HTTP ${status}${detail}` };
}

/**
 * Idle connections to a receiver are closed after this long: below the 5 s that Node's and many other
 * servers keep an idle connection open, so that a POST seldom goes out on one the server is closing.
 */
const IDLE_SOCKET_MS = 4_000;
/** Receivers (origins) whose connections and parsed URLs are kept; more are dropped, oldest first. */
const MAX_TARGETS = 64;

/** What is the same for every POST to one URL: where it goes and how, or why it is refused. */
type Target =
  { readonly send: typeof httpRequest; readonly options: RequestOptions } | { readonly refused: string };

/**
 * By URL and guard. One keep-alive agent per receiver origin: deliveries reuse its connections (and TLS
 * sessions) instead of opening one each, and never share a pool with anything else in the process. A
 * connection is made only through `guardedLookup`, so a reused one was checked when it was opened.
 */
const targets = new Map<string, Target>();
const agents = new Map<string, HttpAgent>();

function targetOf(url: string, allowLinkLocal: boolean): Target {
  const cacheKey = `${allowLinkLocal ? 'open' : 'guarded'} ${url}`;
  let target = targets.get(cacheKey);
  if (target === undefined) {
    target = parseTarget(url, allowLinkLocal);
    // Dropped entries' agents are not destroyed: a POST may be using them; idle sockets close by themselves.
    if (targets.size >= MAX_TARGETS) targets.delete(targets.keys().next().value ?? '');
    targets.set(cacheKey, target);
  }
  return target;
}

function parseTarget(url: string, allowLinkLocal: boolean): Target {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { refused: 'not a URL' };
  }
  if (!allowLinkLocal) {
    const refused = refusedHost(parsed.hostname);
    if (refused !== undefined) return { refused };
  }
  const https = parsed.protocol === 'https:';
  const agentKey = `${allowLinkLocal ? 'open' : 'guarded'} ${parsed.origin}`;
  let agent = agents.get(agentKey);
  if (agent === undefined) {
    const options = { keepAlive: true, scheduling: 'lifo' as const, timeout: IDLE_SOCKET_MS };
    agent = https ? new HttpsAgent(options) : new HttpAgent(options);
    if (agents.size >= MAX_TARGETS) agents.delete(agents.keys().next().value ?? '');
    agents.set(agentKey, agent);
  }
  return {
    send: https ? httpsRequest : httpRequest,
    options: {
      method: 'POST',
      protocol: parsed.protocol,
      // `[::1]` is a URL's spelling; a connection wants `::1`.
      hostname: parsed.hostname.replace(/^\[|\]$/g, ''),
      ...(parsed.port ? { port: Number(parsed.port) } : {}),
      path: `${parsed.pathname}${parsed.search}`,
      agent,
      ...(allowLinkLocal ? {} : { lookup: guardedLookup }),
    },
  };
}

/**
 * POSTs one signed event: no redirects followed, refused addresses never connected to, any 2xx
 * delivered, anything else (another status, no answer in time, a network error) failed.
 */
export async function postWebhook(
  url: string,
  headers: Readonly<Record<string, string>>,
  body: string,
  options: PostOptions,
): Promise<PostResult> {
  const target = targetOf(url, options.allowLinkLocal);
  if ('refused' in target) return { kind: 'refused', message: target.refused };
  return new Promise<PostResult>((resolve) => {
    const request = target.send(
      {
        ...target.options,
        headers: {
          ...headers,
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'Greenlight',
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          if (size < MAX_ANSWER_BYTES) chunks.push(chunk);
          size += chunk.length;
        });
        response.on('end', () => {
          resolve(answered(response, Buffer.concat(chunks).toString('utf8')));
        });
        response.on('error', (error) => {
          resolve({
            kind: 'failed',
            message: timedOut ? `no answer within ${options.timeoutMs / 1000}s` : messageOf(error),
          });
        });
      },
    );
    // A plain timer for the whole exchange: AbortSignal.timeout costs several times more per request.
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      request.destroy();
    }, options.timeoutMs);
    request.on('close', () => {
      clearTimeout(deadline);
    });
    request.on('error', (error) => {
      if (timedOut) resolve({ kind: 'failed', message: `no answer within ${options.timeoutMs / 1000}s` });
      else if (error instanceof WebhookRefusedError) resolve({ kind: 'refused', message: error.message });
      else resolve({ kind: 'failed', message: messageOf(error) });
    });
    request.end(body);
  });
}
