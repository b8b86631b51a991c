import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { messageOf, WebhookRefusedError } from '../errors.ts';
import { refusedAddress, refusedHost } from './address.ts';
import { exchange, newOrigin, requestHead, type Answer, type Origin } from './http1.ts';

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

function answered({ status, location, body }: Answer): PostResult {
  const said = body.trim().replace(/\s+/g, ' ').slice(0, 200);
  const detail = said ? `: ${said}` : '';
  if (status >= 200 && status < 300) return { kind: 'delivered', message: `HTTP ${status}` };
  if (status >= 300 && status < 400) {
    return {
      kind: 'failed',
      message: `HTTP ${status}: redirects are not followed (to ${location ?? 'nowhere'})`,
    };
  }
  return { kind: 'failed', message: `HTTP ${status}${detail}` };
}

/** Receivers (origins) whose connections and parsed URLs are kept; more are dropped, oldest first. */
const MAX_TARGETS = 64;

/** What is the same for every POST to one URL: where it goes, or why it is refused. */
type Target = { readonly origin: Origin; readonly path: string } | { readonly refused: string };

/**
 * By URL and guard. One pool of kept-alive connections per receiver origin (http1.ts): deliveries
 * reuse its connections (and TLS sessions) instead of opening one each, and never share a pool with
 * anything else in the process. A connection is made only through `guardedLookup`, so a reused one
 * was checked when it was opened.
 */
const targets = new Map<string, Target>();
const origins = new Map<string, Origin>();

function targetOf(url: string, allowLinkLocal: boolean): Target {
  const cacheKey = `${allowLinkLocal ? 'open' : 'guarded'} ${url}`;
  let target = targets.get(cacheKey);
  if (target === undefined) {
    target = parseTarget(url, allowLinkLocal);
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
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return { refused: `${parsed.protocol} is not http: or https:` };
  }
  if (!allowLinkLocal) {
    const refused = refusedHost(parsed.hostname);
    if (refused !== undefined) return { refused };
  }
  const originKey = `${allowLinkLocal ? 'open' : 'guarded'} ${parsed.origin}`;
  let origin = origins.get(originKey);
  if (origin === undefined) {
    origin = newOrigin(parsed, allowLinkLocal ? undefined : guardedLookup);
    // A dropped origin's connections are not closed: a POST may be using them; idle ones close by themselves.
    if (origins.size >= MAX_TARGETS) origins.delete(origins.keys().next().value ?? '');
    origins.set(originKey, origin);
  }
  return { origin, path: `${parsed.pathname}${parsed.search}` };
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
  let request: string;
  try {
    request = requestHead(target.origin, target.path, headers, Buffer.byteLength(body)) + body;
  } catch (error) {
    return { kind: 'failed', message: messageOf(error) };
  }
  const sent = exchange(target.origin, request);
  // A plain timer for the whole exchange: AbortSignal.timeout costs several times more per request.
  const deadline = { passed: false };
  const timer = setTimeout(() => {
    deadline.passed = true;
    sent.abort();
  }, options.timeoutMs);
  try {
    return answered(await sent.answer);
  } catch (error) {
    if (deadline.passed) return { kind: 'failed', message: `no answer within ${options.timeoutMs / 1000}s` };
    if (error instanceof WebhookRefusedError) return { kind: 'refused', message: error.message };
    return { kind: 'failed', message: messageOf(error) };
  } finally {
    clearTimeout(timer);
  }
}
