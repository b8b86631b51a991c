import type { LookupFunction } from 'node:net';
import { WebhookAnswerError } from '../errors.ts';
import {
  AnswerReader as SharedAnswerReader,
  headerLines,
  parseHead as parseAnyHead,
  type Head,
  type ReaderOptions,
} from '../http1/answer.ts';
import { newOrigin as newAnyOrigin, type Origin } from '../http1/pool.ts';

/**
 * The webhook side of Greenlight's HTTP/1.1 client (src/http1/): POSTing a webhook and reading the
 * status of the answer, over kept-alive connections, at a fraction of Node's `http` client's CPU
 * per request (docs/benchmarks.md, F13). A request is one socket write of a string built once per
 * receiver plus the attempt's headers; of an answer only the status, Location and the first bytes of
 * its body are kept (they are only shown, shortened).
 */

export { exchange, IDLE_CONNECTION_MS, type Origin } from '../http1/pool.ts';
export type { Answer } from '../http1/answer.ts';

/** How much of an answer's body is kept. */
export const MAX_ANSWER_BYTES = 4096;

const errorOf = (message: string): Error => new WebhookAnswerError(message);

/** What a webhook's answer reader keeps: the first MAX_ANSWER_BYTES of the body, no headers. */
const WEBHOOK_ANSWERS: ReaderOptions = { maxBodyBytes: MAX_ANSWER_BYTES, keepHeaders: false, errorOf };

/** An answer reader as webhooks read answers (WEBHOOK_ANSWERS); failures are WebhookAnswerErrors. */
export class AnswerReader extends SharedAnswerReader {
  constructor() {
    super(WEBHOOK_ANSWERS);
  }
}

/** An answer's head; throws a WebhookAnswerError on what is not HTTP/1.x. */
export const parseHead = (text: string): Head => parseAnyHead(text, errorOf);

/** A receiver origin's pool, connecting through `lookup` (the link-local guard) when given. */
export const newOrigin = (url: URL, lookup: LookupFunction | undefined): Origin =>
  newAnyOrigin(url, { ...(lookup ? { lookup } : {}), reader: WEBHOOK_ANSWERS });

/**
 * The request's head: request line, Host, User-Agent, the given headers and Content-Length, ready to be followed by
 * the body. Throws on a header that would break the request's framing.
 */
export function requestHead(
  origin: Origin,
  path: string,
  headers: Readonly<Record<string, string>>,
  bodyBytes: number,
): string {
  return (
    `POST ${path} HTTP/1.1\r\nhost: ${origin.hostHeader}\r\nuser-agent: Greenlight\r\n` +
    `${headerLines(headers, errorOf)}content-length: ${bodyBytes}\r\n\r\n`
  );
}
