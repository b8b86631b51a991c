/**
 * The transport-independent half of Greenlight's HTTP/1.1 client (docs/benchmarks.md, F13): a
 * request's head built as one string, and an answer parsed in place from the bytes a connection
 * receives. Pure: bytes in, progress out. The webhook client (src/webhooks/http1.ts) keeps the first
 * bytes of an answer's body; the Kubernetes client (src/k8s/kube-http.ts) keeps all of it and the
 * answer's headers. Both say which through ReaderOptions.
 */

/** A failure of the exchange's framing: each client names it with its own error class. */
export type ErrorOf = (message: string) => Error;

/** What an AnswerReader keeps of an answer, and how it names what it cannot read. */
export interface ReaderOptions {
  /** How many bytes of the body are kept (the rest is read and dropped); Infinity: all of it. */
  readonly maxBodyBytes: number;
  /** Whether the answer's headers are kept (Answer.headers). */
  readonly keepHeaders: boolean;
  readonly errorOf: ErrorOf;
}

export interface Answer {
  readonly status: number;
  readonly location: string | undefined;
  /** The body as text (the first ReaderOptions.maxBodyBytes of it). */
  readonly body: string;
  /**
   * With ReaderOptions.keepHeaders: the answer's headers by lower-case name, repeated ones joined
   * with ", " (as KubeApiError carries them: Retry-After, Warning, …).
   */
  readonly headers?: Readonly<Record<string, string>>;
}

/** An answer's status line and headers larger than this are not an answer these clients expect. */
const MAX_HEAD_BYTES = 64 * 1024;

/** Header names and values that would end a line early and so write headers of their own. */
const LINE_BREAK = /[\r\n]/;

/** `name: value\r\n` for each header; throws (framing) on a name or value with a line break. */
export function headerLines(headers: Readonly<Record<string, string>>, errorOf: ErrorOf): string {
  let lines = '';
  for (const name in headers) {
    const value = headers[name] ?? '';
    if (LINE_BREAK.test(name) || LINE_BREAK.test(value)) {
      throw errorOf(`header ${JSON.stringify(name)} has a line break`);
    }
    lines += `${name}: ${value}\r\n`;
  }
  return lines;
}

type BodyFraming =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; remaining: number }
  | { readonly kind: 'chunked'; state: 'size' | 'data' | 'data-end' | 'trailers'; remaining: number }
  | { readonly kind: 'until-close' };

/** What an answer's status line and headers say about it. */
export interface Head {
  readonly status: number;
  readonly location: string | undefined;
  readonly contentLength: number | undefined;
  readonly chunked: boolean;
  /** Transfer-Encoding was given (chunked last or not): Content-Length then says nothing. */
  readonly transferCoded: boolean;
  /** The server closes the connection after this answer (or HTTP/1.0 without keep-alive). */
  readonly close: boolean;
  /** Header values by lower-case name, in the order given. */
  readonly fields: ReadonlyMap<string, readonly string[]>;
}

/** An answer's head (without the blank line that ends it). Throws on what is not HTTP/1.x. */
export function parseHead(text: string, errorOf: ErrorOf): Head {
  const lines = text.split('\r\n');
  const statusLine = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0] ?? '');
  if (!statusLine) {
    throw errorOf(`the answer is not HTTP/1.x: ${JSON.stringify((lines[0] ?? '').slice(0, 40))}`);
  }
  const fields = headerFields(lines.slice(1));
  const codings = (fields.get('transfer-encoding') ?? []).join(',').toLowerCase();
  const connection = (fields.get('connection') ?? []).join(',').toLowerCase();
  const http10 = statusLine[1] === '0';
  return {
    status: Number(statusLine[2]),
    location: fields.get('location')?.[0],
    contentLength: codings === '' ? contentLengthOf(fields.get('content-length'), errorOf) : undefined,
    chunked: codings.split(',').at(-1)?.trim() === 'chunked',
    transferCoded: codings !== '',
    close: connection.includes('close') || (http10 && !connection.includes('keep-alive')),
    fields,
  };
}

/** Header values by lower-case name, in the order given. */
function headerFields(lines: readonly string[]): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const values = fields.get(name);
    if (values === undefined) fields.set(name, [value]);
    else values.push(value);
  }
  return fields;
}

/** Content-Length, when given: one length, or the same one repeated (RFC 9110, section 8.6). */
function contentLengthOf(values: readonly string[] | undefined, errorOf: ErrorOf): number | undefined {
  if (values === undefined) return undefined;
  const lengths = new Set(values.flatMap((value) => value.split(',')).map((value) => value.trim()));
  const [length] = lengths;
  if (lengths.size !== 1 || length === undefined || !/^\d+$/.test(length)) {
    throw errorOf(`the answer's Content-Length is not a length: ${JSON.stringify(values.join(', '))}`);
  }
  return Number(length);
}

/** Where the body of an answer ends (RFC 9112, section 6.3). */
function framingOf(head: Head): BodyFraming {
  if (head.status === 204 || head.status === 304) return { kind: 'none' };
  if (head.chunked) return { kind: 'chunked', state: 'size', remaining: 0 };
  // A transfer coding other than chunked last: the body runs until the connection closes.
  if (head.transferCoded) return { kind: 'until-close' };
  if (head.contentLength !== undefined) return { kind: 'length', remaining: head.contentLength };
  return { kind: 'until-close' };
}

/** The headers flat, repeated ones joined with ", ". */
function flatHeaders(fields: ReadonlyMap<string, readonly string[]>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, values] of fields) flat[name] = values.join(', ');
  return flat;
}

/**
 * Reads one answer from the bytes a connection receives (pure: bytes in, progress out). 1xx interim
 * answers are skipped; the body is framed by Content-Length, chunked transfer coding, or the end of
 * the connection, as HTTP/1.1 says (RFC 9112, section 6.3).
 */
export class AnswerReader {
  readonly #options: ReaderOptions;
  #buffer: Buffer | undefined;
  #status = 0;
  #location: string | undefined;
  #headers: Record<string, string> | undefined;
  #keepAlive = false;
  #framing: BodyFraming | undefined;
  readonly #body: Buffer[] = [];
  #bodyBytes = 0;
  #done = false;
  /** Whether any byte of an answer has arrived (a kept-alive connection that closes before is retried). */
  started = false;

  constructor(options: ReaderOptions) {
    this.#options = options;
  }

  /** Feeds received bytes; true once the answer is complete. Throws on what is not HTTP/1.x. */
  feed(chunk: Buffer): boolean {
    this.started = true;
    let data = this.#buffer ? Buffer.concat([this.#buffer, chunk]) : chunk;
    this.#buffer = undefined;
    while (!this.#done && data.length > 0) {
      data = this.#framing === undefined ? this.#headFrom(data) : this.#bodyBytesFrom(data);
    }
    // Bytes after a complete answer were not asked for: the connection is not used again.
    if (this.#done && data.length > 0) this.#keepAlive = false;
    return this.#done;
  }

  /** The connection ended: completes an answer whose body runs until then; false if it was cut short. */
  ended(): boolean {
    if (this.#framing?.kind === 'until-close') this.#done = true;
    return this.#done;
  }

  answer(): Answer {
    const body =
      this.#body.length === 1
        ? (this.#body[0] ?? Buffer.alloc(0)).toString('utf8')
        : Buffer.concat(this.#body).toString('utf8');
    const answer = { status: this.#status, location: this.#location, body };
    return this.#headers === undefined ? answer : { ...answer, headers: this.#headers };
  }

  /** Whether the connection can carry another request. */
  reusable(): boolean {
    return this.#done && this.#keepAlive;
  }

  /** Reads a head from `data` if it holds a whole one; returns what follows it (nothing if it waits for more). */
  #headFrom(data: Buffer): Buffer {
    const end = data.indexOf('\r\n\r\n');
    if (end < 0) {
      if (data.length > MAX_HEAD_BYTES) throw this.#options.errorOf('the answer has no end of its headers');
      this.#buffer = data;
      return data.subarray(data.length);
    }
    this.#head(data.toString('latin1', 0, end));
    return data.subarray(end + 4);
  }

  #head(text: string): void {
    const head = parseHead(text, this.#options.errorOf);
    // An interim answer (100 Continue, 103 Early Hints): the real one follows.
    if (head.status < 200) return;
    this.#status = head.status;
    this.#location = head.location;
    if (this.#options.keepHeaders) this.#headers = flatHeaders(head.fields);
    this.#framing = framingOf(head);
    this.#keepAlive = !head.close && this.#framing.kind !== 'until-close';
    this.#done =
      this.#framing.kind === 'none' || (this.#framing.kind === 'length' && this.#framing.remaining === 0);
  }

  /** Consumes body bytes; returns what is left of `data` (unread: it waits for more, or follows the answer). */
  #bodyBytesFrom(data: Buffer): Buffer {
    const framing = this.#framing;
    if (framing === undefined || framing.kind === 'none') {
      this.#done = true;
      return data;
    }
    if (framing.kind === 'until-close') {
      this.#keep(data);
      return data.subarray(data.length);
    }
    if (framing.kind === 'length') {
      const taken = Math.min(framing.remaining, data.length);
      this.#keep(data.subarray(0, taken));
      framing.remaining -= taken;
      if (framing.remaining === 0) this.#done = true;
      return data.subarray(taken);
    }
    return this.#chunked(framing, data);
  }

  #chunked(framing: Extract<BodyFraming, { kind: 'chunked' }>, input: Buffer): Buffer {
    let data = input;
    while (data.length > 0 && !this.#done) {
      if (framing.state === 'data') {
        const taken = Math.min(framing.remaining, data.length);
        this.#keep(data.subarray(0, taken));
        framing.remaining -= taken;
        data = data.subarray(taken);
        if (framing.remaining === 0) framing.state = 'data-end';
        continue;
      }
      const lineEnd = data.indexOf('\r\n');
      if (lineEnd < 0) {
        if (data.length > MAX_HEAD_BYTES)
          throw this.#options.errorOf('a chunk of the answer has no end of line');
        this.#buffer = data;
        return data.subarray(data.length);
      }
      this.#done = chunkLine(framing, data.toString('latin1', 0, lineEnd), this.#options.errorOf);
      data = data.subarray(lineEnd + 2);
    }
    return data;
  }

  #keep(bytes: Buffer): void {
    const room = this.#options.maxBodyBytes - this.#bodyBytes;
    if (room > 0 && bytes.length > 0) {
      // A subarray of the received chunk: the chunk stays referenced until the answer is read, no copy.
      const kept = bytes.length <= room ? bytes : bytes.subarray(0, room);
      this.#body.push(kept);
      this.#bodyBytes += kept.length;
    }
  }
}

/**
 * Moves chunked framing past one line that is not chunk data: the end of a chunk's data, a chunk size,
 * or a trailer. True at the empty line that ends the body.
 */
function chunkLine(
  framing: Extract<BodyFraming, { kind: 'chunked' }>,
  line: string,
  errorOf: ErrorOf,
): boolean {
  if (framing.state === 'data-end') {
    if (line !== '') throw errorOf('a chunk of the answer is longer than it said');
    framing.state = 'size';
    return false;
  }
  if (framing.state === 'size') {
    const size = /^([0-9a-fA-F]{1,8})(?:;.*)?$/.exec(line.trim())?.[1];
    if (size === undefined) {
      throw errorOf(`the answer's chunk size is not a size: ${JSON.stringify(line.slice(0, 20))}`);
    }
    framing.remaining = Number.parseInt(size, 16);
    framing.state = framing.remaining === 0 ? 'trailers' : 'data';
    return false;
  }
  return line === '';
}
