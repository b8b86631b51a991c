import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
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
 * POSTs one signed event: no redirects followed, refused addresses never connected to, any 2xx
 * delivered, anything else (another status, no answer in time, a network error) failed.
 */
export async function postWebhook(
  url: string,
  headers: Readonly<Record<string, string>>,
  body: string,
  options: PostOptions,
): Promise<PostResult> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return { kind: 'refused', message: 'not a URL' };
  }
  if (!options.allowLinkLocal) {
    const refused = refusedHost(target.hostname);
    if (refused !== undefined) return { kind: 'refused', message: refused };
  }
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<PostResult>((resolve) => {
    const request = send(
      target,
      {
        method: 'POST',
        headers: {
          ...headers,
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'Greenlight',
        },
        ...(options.allowLinkLocal ? {} : { lookup: guardedLookup }),
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
