import { connect as netConnect, isIP, type LookupFunction, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { WebhookAnswerError } from '../errors.ts';

/**
 * A small HTTP/1.1 client for one thing: POSTing a webhook and reading the status of the answer, over
 * kept-alive connections. Node's `http` client costs several times more CPU per request (a
 * ClientRequest, an agent queue, header validation, a parser and an IncomingMessage stream per
 * exchange), and on a busy controller every delivery takes that CPU from the decisions
 * (docs/benchmarks.md, F13). Here a request is one socket write of a string built once per receiver
 * plus the attempt's headers, and an answer is parsed in place: its status line, the few headers that
 * say where it ends, and at most the first bytes of its body (they are only shown, shortened).
 */

/** Where POSTs go: one per receiver origin (and lookup guard), with its idle connections. */
export interface Origin {
  readonly secure: boolean;
  /** What to connect to: a name (resolved through `lookup`) or an IP address without brackets. */
  readonly host: string;
  readonly port: number;
  /** The `Host` header: the URL's host and any port it names. */
  readonly hostHeader: string;
  readonly lookup: LookupFunction | undefined;
  /** Connections that finished an exchange and may carry the next one, most recently used last. */
  readonly idle: Connection[];
  /** The last TLS session, so that a new connection resumes it instead of a full handshake. */
  session: Buffer | undefined;
  sweeper: NodeJS.Timeout | undefined;
}

export interface Answer {
  readonly status: number;
  readonly location: string | undefined;
  /** The first MAX_ANSWER_BYTES of the body, as text. */
  readonly body: string;
}

/** How much of an answer's body is kept. */
export const MAX_ANSWER_BYTES = 4096;
/** An answer's status line and headers larger than this are not an answer a webhook receiver sends. */
const MAX_HEAD_BYTES = 64 * 1024;
/**
 * Idle connections are closed after this long: below the 5 s that Node's and many other servers keep
 * an idle connection open, so that a POST seldom goes out on one the server is closing.
 */
export const IDLE_CONNECTION_MS = 4_000;
const SWEEP_EVERY_MS = 1_000;

export function newOrigin(url: URL, lookup: LookupFunction | undefined): Origin {
  const secure = url.protocol === 'https:';
  return {
    secure,
    // `[::1]` is a URL's spelling; a connection wants `::1`.
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : secure ? 443 : 80,
    hostHeader: url.host,
    lookup,
    idle: [],
    session: undefined,
    sweeper: undefined,
  };
}

/** Header names and values that would end a line early and so write headers of their own. */
const LINE_BREAK = /[\r\n]/;

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
  let head = `POST ${path} HTTP/1.1\r\nhost: ${origin.hostHeader}\r\nuser-agent: Greenlight\r\n`;
  for (const name in headers) {
    const value = headers[name] ?? '';
    if (LINE_BREAK.test(name) || LINE_BREAK.test(value)) {
      throw new WebhookAnswerError(`header ${JSON.stringify(name)} has a line break`);
    }
    head += `${name}: ${value}\r\n`;
  }
  return `${head}content-length: ${bodyBytes}\r\n\r\n`;
}

type BodyFraming =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; remaining: number }
  | { readonly kind: 'chunked'; state: 'size' | 'data' | 'data-end' | 'trailers'; remaining: number }
  | { readonly kind: 'until-close' };

/** What an answer's status line and headers say about it. */
interface Head {
  readonly status: number;
  readonly location: string | undefined;
  readonly contentLength: number | undefined;
  readonly chunked: boolean;
  /** Transfer-Encoding was given (chunked last or not): Content-Length then says nothing. */
  readonly transferCoded: boolean;
  /** The server closes the connection after this answer (or HTTP/1.0 without keep-alive). */
  readonly close: boolean;
}

/** An answer's head (without the blank line that ends it). Throws on what is not HTTP/1.x. */
export function parseHead(text: string): Head {
  const lines = text.split('\r\n');
  const statusLine = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0] ?? '');
  if (!statusLine) {
    throw new WebhookAnswerError(
      `the answer is not HTTP/1.x: ${JSON.stringify((lines[0] ?? '').slice(0, 40))}`,
    );
  }
  const fields = headerFields(lines.slice(1));
  const codings = (fields.get('transfer-encoding') ?? []).join(',').toLowerCase();
  const connection = (fields.get('connection') ?? []).join(',').toLowerCase();
  const http10 = statusLine[1] === '0';
  return {
    status: Number(statusLine[2]),
    location: fields.get('location')?.[0],
    contentLength: codings === '' ? contentLengthOf(fields.get('content-length')) : undefined,
    chunked: codings.split(',').at(-1)?.trim() === 'chunked',
    transferCoded: codings !== '',
    close: connection.includes('close') || (http10 && !connection.includes('keep-alive')),
  };
}

/** Header values by lower-case name, in the order given. */
function headerFields(lines: readonly string[]): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    fields.set(name, [...(fields.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  return fields;
}

/** Content-Length, when given: one length, or the same one repeated (RFC 9110, section 8.6). */
function contentLengthOf(values: readonly string[] | undefined): number | undefined {
  if (values === undefined) return undefined;
  const lengths = new Set(values.flatMap((value) => value.split(',')).map((value) => value.trim()));
  const [length] = lengths;
  if (lengths.size !== 1 || length === undefined || !/^\d+$/.test(length)) {
    throw new WebhookAnswerError(
      `the answer's Content-Length is not a length: ${JSON.stringify(values.join(', '))}`,
    );
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

/**
 * Reads one answer from the bytes a connection receives (pure: bytes in, progress out). 1xx interim
 * answers are skipped; the body is framed by Content-Length, chunked transfer coding, or the end of
 * the connection, as HTTP/1.1 says (RFC 9112, section 6.3).
 */
export class AnswerReader {
  #buffer: Buffer | undefined;
  #status = 0;
  #location: string | undefined;
  #keepAlive = false;
  #framing: BodyFraming | undefined;
  readonly #body: Buffer[] = [];
  #bodyBytes = 0;
  #done = false;
  /** Whether any byte of an answer has arrived (a kept-alive connection that closes before is retried). */
  started = false;

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
    return {
      status: this.#status,
      location: this.#location,
      body: Buffer.concat(this.#body).toString('utf8'),
    };
  }

  /** Whether the connection can carry another request. */
  reusable(): boolean {
    return this.#done && this.#keepAlive;
  }

  /** Reads a head from `data` if it holds a whole one; returns what follows it (nothing if it waits for more). */
  #headFrom(data: Buffer): Buffer {
    const end = data.indexOf('\r\n\r\n');
    if (end < 0) {
      if (data.length > MAX_HEAD_BYTES) throw new WebhookAnswerError('the answer has no end of its headers');
      this.#buffer = data;
      return data.subarray(data.length);
    }
    this.#head(data.toString('latin1', 0, end));
    return data.subarray(end + 4);
  }

  #head(text: string): void {
    const head = parseHead(text);
    // An interim answer (100 Continue, 103 Early Hints): the real one follows.
    if (head.status < 200) return;
    this.#status = head.status;
    this.#location = head.location;
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
          throw new WebhookAnswerError('a chunk of the answer has no end of line');
        this.#buffer = data;
        return data.subarray(data.length);
      }
      this.#done = chunkLine(framing, data.toString('latin1', 0, lineEnd));
      data = data.subarray(lineEnd + 2);
    }
    return data;
  }

  #keep(bytes: Buffer): void {
    if (this.#bodyBytes < MAX_ANSWER_BYTES && bytes.length > 0) {
      const kept = bytes.subarray(0, MAX_ANSWER_BYTES - this.#bodyBytes);
      this.#body.push(kept);
      this.#bodyBytes += kept.length;
    }
  }
}

/**
 * Moves chunked framing past one line that is not chunk data: the end of a chunk's data, a chunk size,
 * or a trailer. True at the empty line that ends the body.
 */
function chunkLine(framing: Extract<BodyFraming, { kind: 'chunked' }>, line: string): boolean {
  if (framing.state === 'data-end') {
    if (line !== '') throw new WebhookAnswerError('a chunk of the answer is longer than it said');
    framing.state = 'size';
    return false;
  }
  if (framing.state === 'size') {
    const size = /^([0-9a-fA-F]{1,8})(?:;.*)?$/.exec(line.trim())?.[1];
    if (size === undefined) {
      throw new WebhookAnswerError(
        `the answer's chunk size is not a size: ${JSON.stringify(line.slice(0, 20))}`,
      );
    }
    framing.remaining = Number.parseInt(size, 16);
    framing.state = framing.remaining === 0 ? 'trailers' : 'data';
    return false;
  }
  return line === '';
}

/** One exchange on a connection: what it waits for. */
interface Exchange {
  readonly reader: AnswerReader;
  readonly settle: (outcome: { answer: Answer } | { error: Error; retry: boolean }) => void;
}

/** A connection to an origin and the one exchange it carries at a time. */
export class Connection {
  readonly socket: Socket;
  readonly #origin: Origin;
  #exchange: Exchange | undefined;
  #used = false;
  idleSince = 0;

  constructor(origin: Origin) {
    this.#origin = origin;
    const options = {
      host: origin.host,
      port: origin.port,
      ...(origin.lookup ? { lookup: origin.lookup } : {}),
    };
    this.socket = origin.secure
      ? tlsConnect({
          ...options,
          ...(isIP(origin.host) === 0 ? { servername: origin.host } : {}),
          ...(origin.session ? { session: origin.session } : {}),
          ALPNProtocols: ['http/1.1'],
        })
      : netConnect(options);
    this.socket.setNoDelay(true);
    if (origin.secure) {
      this.socket.on('session', (session: Buffer) => {
        origin.session = session;
      });
    }
    this.socket.on('data', (chunk: Buffer) => {
      this.#received(chunk);
    });
    this.socket.on('error', (error) => {
      this.#failed(error);
    });
    this.socket.on('close', () => {
      this.#closed();
    });
  }

  /** Sends a request; settles when its answer is read, the connection fails, or `destroy` is called. */
  send(request: string, settle: Exchange['settle']): void {
    this.#exchange = { reader: new AnswerReader(), settle };
    this.socket.write(request);
  }

  destroy(): void {
    this.socket.destroy();
  }

  #received(chunk: Buffer): void {
    const exchange = this.#exchange;
    if (!exchange) {
      // Nothing was asked: a server does not speak first on an idle connection.
      this.socket.destroy();
      return;
    }
    let complete: boolean;
    try {
      complete = exchange.reader.feed(chunk);
    } catch (error) {
      this.#exchange = undefined;
      this.socket.destroy();
      exchange.settle({ error: error instanceof Error ? error : new Error(String(error)), retry: false });
      return;
    }
    if (complete) this.#finish(exchange);
  }

  #finish(exchange: Exchange): void {
    this.#exchange = undefined;
    this.#used = true;
    if (exchange.reader.reusable() && !this.socket.destroyed) release(this.#origin, this);
    else this.socket.destroy();
    exchange.settle({ answer: exchange.reader.answer() });
  }

  #failed(error: Error): void {
    const exchange = this.#exchange;
    this.#exchange = undefined;
    // A kept-alive connection the server closed as the request went out: nothing was read, try anew.
    exchange?.settle({ error, retry: this.#used && !exchange.reader.started });
  }

  #closed(): void {
    forget(this.#origin, this);
    const exchange = this.#exchange;
    if (!exchange) return;
    if (exchange.reader.ended()) {
      this.#finish(exchange);
      return;
    }
    this.#failed(
      new WebhookAnswerError(
        exchange.reader.started
          ? 'the connection closed mid-answer'
          : 'the connection closed without an answer',
      ),
    );
  }
}

function release(origin: Origin, connection: Connection): void {
  connection.idleSince = Date.now();
  origin.idle.push(connection);
  origin.sweeper ??= setInterval(() => {
    sweep(origin);
  }, SWEEP_EVERY_MS).unref();
}

function forget(origin: Origin, connection: Connection): void {
  const index = origin.idle.indexOf(connection);
  if (index >= 0) origin.idle.splice(index, 1);
}

/** Closes the connections idle for IDLE_CONNECTION_MS; stops looking once none is idle. */
function sweep(origin: Origin): void {
  const now = Date.now();
  for (const connection of origin.idle.filter((idle) => now - idle.idleSince >= IDLE_CONNECTION_MS)) {
    connection.destroy();
  }
  if (origin.idle.length === 0 && origin.sweeper) {
    clearInterval(origin.sweeper);
    origin.sweeper = undefined;
  }
}

/** The most recently used idle connection that is still open, or a new one. */
function connection(origin: Origin): Connection {
  for (let idle = origin.idle.pop(); idle; idle = origin.idle.pop()) {
    if (!idle.socket.destroyed) return idle;
  }
  return new Connection(origin);
}

/**
 * POSTs `request` (head and body) to the origin and reads the answer. A kept-alive connection that
 * turns out closed before any answer is tried once more on a new one (webhooks are idempotent by
 * their id). Rejects with the connection's error; `abort` ends the exchange (a deadline).
 */
export function exchange(origin: Origin, request: string): { answer: Promise<Answer>; abort: () => void } {
  let current: Connection | undefined;
  let aborted = false;
  const answer = new Promise<Answer>((resolve, reject) => {
    const attempt = (retriesLeft: number): void => {
      const used = connection(origin);
      current = used;
      used.send(request, (outcome) => {
        if ('answer' in outcome) resolve(outcome.answer);
        else if (outcome.retry && retriesLeft > 0 && !aborted) attempt(retriesLeft - 1);
        else reject(outcome.error);
      });
    };
    attempt(1);
  });
  return {
    answer,
    abort: () => {
      aborted = true;
      current?.destroy();
    },
  };
}
