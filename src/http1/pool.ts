import { connect as netConnect, isIP, type LookupFunction, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { AnswerReader, type Answer, type ErrorOf, type ReaderOptions } from './answer.ts';

/**
 * The connection half of Greenlight's HTTP/1.1 client: kept-alive connections per origin, one
 * exchange at a time on each, a request written as one string and its answer read in place
 * (answer.ts). Node's `http` client costs several times more CPU per request (a ClientRequest, an
 * agent queue, header validation, a parser and an IncomingMessage stream per exchange;
 * docs/benchmarks.md, F13): the webhook POSTs and the controller's API calls (status writes, Events;
 * F10) both go through this instead.
 */

/** Where requests go: one per origin (and lookup guard, and TLS material), with its idle connections. */
export interface Origin {
  readonly secure: boolean;
  /** What to connect to: a name (resolved through `lookup`) or an IP address without brackets. */
  readonly host: string;
  readonly port: number;
  /** The `Host` header: the URL's host and any port it names. */
  readonly hostHeader: string;
  readonly lookup: LookupFunction | undefined;
  /** TLS material and checks (CA, client certificate, servername, rejectUnauthorized) for https. */
  readonly tls: ConnectionOptions;
  /** What the answers' reader keeps, and the error class of a failed exchange. */
  readonly reader: ReaderOptions;
  /** How long a connection is kept idle (IDLE_CONNECTION_MS unless told). */
  readonly idleMs: number;
  /** Connections that finished an exchange and may carry the next one, most recently used last. */
  readonly idle: Connection[];
  /** Every open connection, idle or carrying an exchange (closeOrigin closes them all). */
  readonly open: Set<Connection>;
  /** The last TLS session, so that a new connection resumes it instead of a full handshake. */
  session: Buffer | undefined;
  sweeper: NodeJS.Timeout | undefined;
}

/**
 * Idle connections are closed after this long: below the 5 s that Node's and many other servers keep
 * an idle connection open, so that a request seldom goes out on one the server is closing.
 */
export const IDLE_CONNECTION_MS = 4_000;
const SWEEP_EVERY_MS = 1_000;

export function newOrigin(
  url: URL,
  options: {
    readonly lookup?: LookupFunction;
    readonly tls?: ConnectionOptions;
    readonly reader: ReaderOptions;
    /** Below the time the server keeps an idle connection open. */
    readonly idleMs?: number;
  },
): Origin {
  const secure = url.protocol === 'https:';
  return {
    secure,
    // `[::1]` is a URL's spelling; a connection wants `::1`.
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : secure ? 443 : 80,
    hostHeader: url.host,
    lookup: options.lookup,
    tls: options.tls ?? {},
    reader: options.reader,
    idleMs: options.idleMs ?? IDLE_CONNECTION_MS,
    idle: [],
    open: new Set(),
    session: undefined,
    sweeper: undefined,
  };
}

type Outcome = { answer: Answer } | { error: Error; retry: boolean };

/** One exchange on a connection: what it waits for. */
interface Exchange {
  readonly reader: AnswerReader;
  readonly settle: (outcome: Outcome) => void;
}

/** A connection to an origin and the one exchange it carries at a time. */
export class Connection {
  readonly socket: Socket;
  readonly #origin: Origin;
  #exchange: Exchange | undefined;
  #used = false;
  idleSince = 0;
  /** When the last byte arrived (Date.now()), for a caller's idle timeout. */
  receivedAt = 0;

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
          ...origin.tls,
          ...(origin.session ? { session: origin.session } : {}),
          ALPNProtocols: ['http/1.1'],
        })
      : netConnect(options);
    origin.open.add(this);
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
    this.#exchange = { reader: new AnswerReader(this.#origin.reader), settle };
    this.receivedAt = Date.now();
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
    this.receivedAt = Date.now();
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
    this.#origin.open.delete(this);
    const exchange = this.#exchange;
    if (!exchange) return;
    if (exchange.reader.ended()) {
      this.#finish(exchange);
      return;
    }
    const errorOf: ErrorOf = this.#origin.reader.errorOf;
    this.#failed(
      errorOf(
        exchange.reader.started
          ? 'the connection closed mid-answer'
          : 'the connection closed without an answer',
      ),
    );
  }
}

/**
 * An idle connection does not keep the process alive (as Node's http Agent does with its free
 * sockets): a CLI command that made its calls exits without closing its client.
 */
function release(origin: Origin, connection: Connection): void {
  connection.socket.unref();
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

/** Closes the connections idle for the origin's idleMs; stops looking once none is idle. */
function sweep(origin: Origin): void {
  const now = Date.now();
  for (const connection of origin.idle.filter((idle) => now - idle.idleSince >= origin.idleMs)) {
    connection.destroy();
  }
  if (origin.idle.length === 0 && origin.sweeper) {
    clearInterval(origin.sweeper);
    origin.sweeper = undefined;
  }
}

/** Closes every connection of the origin, idle or busy (their exchanges fail). */
export function closeOrigin(origin: Origin): void {
  for (const connection of [...origin.open]) connection.destroy();
  if (origin.sweeper) {
    clearInterval(origin.sweeper);
    origin.sweeper = undefined;
  }
}

/** The most recently used idle connection that is still open, or a new one. */
function connection(origin: Origin): Connection {
  for (let idle = origin.idle.pop(); idle; idle = origin.idle.pop()) {
    if (!idle.socket.destroyed) {
      idle.socket.ref();
      return idle;
    }
  }
  return new Connection(origin);
}

/** An exchange under way. */
export interface Sent {
  readonly answer: Promise<Answer>;
  /**
   * Ends the exchange (a deadline, an abort): closes its connection. With `reason`, `answer` rejects
   * with it; without, with the connection's own error.
   */
  readonly abort: (reason?: Error) => void;
  /** When the exchange's connection last received a byte (or sent the request), Date.now(). */
  readonly receivedAt: () => number;
}

/**
 * Sends `request` (head and body) to the origin and reads the answer. With `retry`, a kept-alive
 * connection that turns out closed before any answer is tried once more on a new one: only for a
 * request that may be sent twice (a webhook, idempotent by its id; a GET; a PUT, refused as a
 * conflict the second time). Rejects with the connection's error.
 */
export function exchange(origin: Origin, request: string, retry = true): Sent {
  let current: Connection | undefined;
  let aborted = false;
  let fail: ((error: Error) => void) | undefined;
  const answer = new Promise<Answer>((resolve, reject) => {
    fail = reject;
    const attempt = (retriesLeft: number): void => {
      const used = connection(origin);
      current = used;
      used.send(request, (outcome) => {
        if ('answer' in outcome) resolve(outcome.answer);
        else if (retry && outcome.retry && retriesLeft > 0 && !aborted) attempt(retriesLeft - 1);
        else reject(outcome.error);
      });
    };
    attempt(1);
  });
  return {
    answer,
    abort: (reason) => {
      aborted = true;
      if (reason) fail?.(reason);
      current?.destroy();
    },
    receivedAt: () => current?.receivedAt ?? 0,
  };
}
