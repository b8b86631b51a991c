import { StringDecoder } from 'node:string_decoder';
import http from 'node:http';
import https from 'node:https';
import type { Answer, ReaderOptions } from '../http1/answer.ts';
import { headerLines } from '../http1/answer.ts';
import { closeOrigin, exchange, newOrigin, type Origin, type Sent } from '../http1/pool.ts';
import { KubeApiError } from './api-errors.ts';

/**
 * Where the API server is and how to authenticate to it: client-node's KubeConfig (the CLI's
 * commands) or Greenlight's own ClusterConfig (the controller, which does not load client-node;
 * docs/benchmarks.md, F12) — both have these two methods.
 */
export interface ClusterAccess {
  getCurrentCluster(): { readonly server: string } | null;
  /** Puts the TLS material, the Authorization and other headers, and basic auth on `options`. */
  applyToHTTPSOptions(options: https.RequestOptions): Promise<void>;
}

/** Per-call options. */
export interface CallOptions {
  /** The body's media type (default application/json; a JSON patch's is application/json-patch+json). */
  readonly contentType?: string;
  /** Aborts the call. */
  readonly signal?: AbortSignal;
  /** Sent even when the write fence is shut: the leader election's own lease calls. */
  readonly unfenced?: boolean;
}

/**
 * Whether this process may still write. Leader election installs one (LeaderElector.writesAllowed):
 * a leader whose renew deadline has passed writes nothing more, checked right before each request
 * leaves, so no timer that fires late (a paused process, a blocked event loop) can let one through.
 */
export type WriteFence = () => boolean;

/**
 * How long from now a write may still take effect, in milliseconds (undefined: no bound). Leader
 * election installs one (LeaderElector.writeWindowMs); every fenced write carries it as the API
 * server's `timeout` parameter, so a write held up inside the server cannot land after another
 * replica has taken the lease over.
 */
export type WriteWindow = () => number | undefined;

/** A write refused by this process's own fence: it is no longer the leader (or about to stop being it). */
export class NotLeaderError extends Error {
  constructor(method: Method, path: string) {
    super(`${method} ${path} not sent: this process is no longer the leader`);
    this.name = 'NotLeaderError';
  }
}

/**
 * A lean JSON client for every call the controller makes (docs/benchmarks.md, F10 and F12): first for
 * the status write, the Event and the watch, now for all of them. client-node's generated API goes through WHATWG fetch, an rxjs-style
 * middleware chain and its object serializer, and builds a new TLS agent for every call (then
 * discarded by PooledKubeConfig): measured, that was most of the controller's own CPU per decision
 * (docs/benchmarks.md, F10). Here: Greenlight's own HTTP/1.1 client (src/http1/, shared with the
 * webhooks) on kept-alive connections, one socket write per request and the answer parsed in place,
 * since Node's `http` client machinery was a quarter of the controller's CPU per decision (F13);
 * JSON in and out, and the API server's refusals as KubeApiError, which api-errors.ts reads as it
 * reads client-node's `ApiException`. Watches, one long stream each, stay on Node's `http` client.
 *
 * Credentials come from the ClusterAccess (tokens, token files, client certificates; exec plugins
 * and auth providers through client-node, loaded only for them), read again at most every CREDENTIALS_TTL_MS, as client-go re-reads a token file every minute: a rotated
 * token is used from then on, and new TLS material gets a new connection pool.
 */
export class KubeHttp {
  /** One client, so one connection pool, per KubeConfig. */
  static for(kubeConfig: ClusterAccess): KubeHttp {
    let client = clients.get(kubeConfig);
    if (client === undefined) {
      client = new KubeHttp(kubeConfig);
      clients.set(kubeConfig, client);
    }
    return client;
  }

  readonly #kubeConfig: ClusterAccess;
  #credentials: Promise<Credentials> | undefined;
  #credentialsAt = 0;
  #pool: Pool | undefined;
  #fence: WriteFence | undefined;
  #window: WriteWindow | undefined;
  #userAgent = 'greenlight';
  readonly #idleTimeoutMs: number;

  /** `requestIdleTimeoutMs`: REQUEST_IDLE_TIMEOUT_MS unless a test wants to wait less. */
  constructor(kubeConfig: ClusterAccess, options: { readonly requestIdleTimeoutMs?: number } = {}) {
    this.#kubeConfig = kubeConfig;
    this.#idleTimeoutMs = options.requestIdleTimeoutMs ?? REQUEST_IDLE_TIMEOUT_MS;
  }

  /**
   * From now on every write (not GET, not `unfenced`) is sent only while `fence` says so, and asks the
   * API server to give up on it once `window` has passed.
   */
  setWriteFence(fence: WriteFence | undefined, window?: WriteWindow): void {
    this.#fence = fence;
    this.#window = window;
  }

  /**
   * Names the client in every call from now on: the API server's audit log records it for each
   * request, so a controller that puts its replica's identity here can be told from its peers there.
   */
  setUserAgent(userAgent: string): void {
    this.#userAgent = userAgent;
  }

  /** GET, POST, PUT, PATCH or DELETE `path` (with its query) and the parsed JSON answer. */
  async json<T>(method: Method, path: string, body?: unknown, options: CallOptions = {}): Promise<T> {
    const answer = await this.#exchange(method, path, body, options);
    if (answer.status >= 200 && answer.status < 300) return JSON.parse(answer.body) as T;
    throw new KubeApiError(answer.status, answer.body, answer.headers);
  }

  /**
   * Like `json`, for a write whose answer nobody reads (an Event): the answer is drained unparsed; a
   * refusal still throws.
   */
  async send(method: Method, path: string, body: unknown): Promise<void> {
    const answer = await this.#exchange(method, path, body, {});
    if (answer.status < 200 || answer.status >= 300) {
      throw new KubeApiError(answer.status, answer.body, answer.headers);
    }
  }

  /**
   * Watches `path` (client-node Watch's contract, which ListWatch relies on): `onEvent` for every
   * event line, `done` exactly once when the stream ends, fails, or has been silent for
   * WATCH_INACTIVITY_MS; the returned controller aborts it (and `done` is then not called).
   */
  async watch(
    path: string,
    query: Readonly<Record<string, string | number | boolean | undefined>>,
    onEvent: (type: string, object: unknown, event: unknown) => void,
    done: (error: unknown) => void,
  ): Promise<AbortController> {
    const controller = new AbortController();
    let finished = false;
    const finish = (error: unknown): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      // Aborted by the caller (a stop or restart): it knows, and is not told again.
      const byCaller = controller.signal.aborted;
      controller.abort();
      if (!byCaller) done(error);
    };
    // One timer, pushed back on each chunk (refresh() reuses it: no timer per event).
    const timer = setTimeout(() => {
      finish(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    }, WATCH_INACTIVITY_MS).unref();
    try {
      const response = await this.#call({
        method: 'GET',
        path: `${path}?${watchQuery(query)}`,
        signal: controller.signal,
      });
      if (response.statusCode !== 200) throw apiException(response, await readText(response));
      const lines = new LineSplitter((line) => {
        let event: { type?: unknown; object?: unknown };
        try {
          event = JSON.parse(line) as { type?: unknown; object?: unknown };
        } catch {
          return; // as client-node's Watch: a line that is not JSON is skipped
        }
        if (typeof event.type === 'string') onEvent(event.type, event.object, event);
      });
      response.on('data', (chunk: Buffer) => {
        timer.refresh();
        lines.push(chunk);
      });
      response.on('error', finish);
      response.on('end', () => {
        finish(null);
      });
      response.on('close', () => {
        finish(null);
      });
    } catch (error) {
      finish(error);
    }
    return controller;
  }

  /** Closes the connections (shutdown). */
  close(): Promise<void> {
    if (this.#pool) retire(this.#pool);
    this.#pool = undefined;
    return Promise.resolve();
  }

  /**
   * One call (not a watch) through the HTTP/1.1 client of src/http1/: the request as one string, the
   * whole answer with its headers. Rejects with the connection's error (the caller retries), a
   * KubeRequestTimeoutError, a KubeRequestAbortedError or a NotLeaderError.
   */
  async #exchange(
    method: Method,
    path: string,
    body: unknown,
    { contentType = 'application/json', signal, unfenced = false }: CallOptions,
  ): Promise<Answer> {
    const { pool, credentials } = await this.#connection();
    if (signal?.aborted) throw new KubeRequestAbortedError(method, path, signal.reason);
    // Checked here, after the last await before the request leaves: nothing runs in between.
    const target = method === 'GET' || unfenced ? path : this.#fenced(method, path);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const request =
      `${method} ${requestTarget(credentials.server.prefix, target)} HTTP/1.1\r\n` +
      this.#fixedHeaders(pool, credentials) +
      bodyHeaders(method, contentType, payload) +
      (payload ?? '');
    // Sent again (a kept-alive connection that closed before any answer byte) only where a duplicate
    // is harmless: a GET, or a PUT (its resourceVersion makes the second one a conflict). The others
    // surface the connection's error, as they did through node:http, and their callers retry.
    const sent = exchange(pool.origin, request, method === 'GET' || method === 'PUT');
    return answerOf(sent, { method, path, idleTimeoutMs: this.#idleTimeoutMs, signal });
  }

  /** A write's path once the fence lets it go, with the time the API server has to make it land. */
  #fenced(method: Method, path: string): string {
    if (this.#fence?.() === false) throw new NotLeaderError(method, path);
    const windowMs = this.#window?.();
    if (windowMs === undefined) return path;
    if (windowMs < 1) throw new NotLeaderError(method, path);
    return withTimeout(path, windowMs);
  }

  /** Host, User-Agent, Accept and the credentials' headers: the same for every call until one changes. */
  #fixedHeaders(pool: Pool, credentials: Credentials): string {
    const cached = pool.fixedHeaders;
    if (cached?.credentials === credentials && cached.userAgent === this.#userAgent) return cached.text;
    const text =
      `host: ${pool.origin.hostHeader}\r\n` +
      headerLines(
        { ...credentials.headers, 'user-agent': this.#userAgent, accept: 'application/json' },
        kubeHttpErrorOf,
      );
    pool.fixedHeaders = { credentials, userAgent: this.#userAgent, text };
    return text;
  }

  /** The watch's request, through Node's `http` client on the pool's agent. */
  async #call({
    method,
    path,
    signal,
  }: {
    readonly method: Method;
    readonly path: string;
    readonly signal?: AbortSignal;
  }): Promise<http.IncomingMessage> {
    const { pool, credentials } = await this.#connection();
    const { server, headers } = credentials;
    pool.agent ??= newAgent(server, credentials.tls);
    const { agent } = pool;
    const transport = server.protocol === 'http:' ? http : https;
    return new Promise((resolve, reject) => {
      const request = transport.request(
        {
          protocol: server.protocol,
          hostname: server.hostname,
          port: server.port,
          path: server.prefix + path,
          method,
          agent,
          ...(signal ? { signal } : {}),
          headers: { ...headers, accept: 'application/json', 'user-agent': this.#userAgent },
        },
        resolve,
      );
      request.on('error', reject);
      request.end();
    });
  }

  async #connection(): Promise<{ pool: Pool; credentials: Credentials }> {
    const now = Date.now();
    if (this.#credentials === undefined || now - this.#credentialsAt > CREDENTIALS_TTL_MS) {
      this.#credentialsAt = now;
      this.#credentials = readCredentials(this.#kubeConfig);
      // A failed read is not kept: the next call tries again.
      this.#credentials.catch(() => {
        this.#credentials = undefined;
      });
    }
    const credentials = await this.#credentials;
    let pool = this.#pool;
    if (pool?.key !== credentials.tlsKey) {
      const previous = pool;
      pool = newPool(credentials);
      this.#pool = pool;
      // New TLS material (rotated certificates): the old pool's calls and watches get a minute to
      // finish before its connections close.
      if (previous) {
        setTimeout(() => {
          retire(previous);
        }, 60_000).unref();
      }
    }
    return { pool, credentials };
  }
}

/**
 * The answer of a call under way, or a KubeRequestTimeoutError once its connection has been silent
 * for `idleTimeoutMs` (a dead peer, a black-holed route would otherwise hold the call, and the worker
 * waiting on it, for ever), or a KubeRequestAbortedError when the signal aborts it. One plain timer
 * per call, looked at when it fires rather than pushed back on every chunk.
 */
async function answerOf(
  sent: Sent,
  call: {
    readonly method: Method;
    readonly path: string;
    readonly idleTimeoutMs: number;
    readonly signal: AbortSignal | undefined;
  },
): Promise<Answer> {
  const { method, path, idleTimeoutMs, signal } = call;
  const idle = (): void => {
    const silentMs = Date.now() - sent.receivedAt();
    if (silentMs >= idleTimeoutMs) sent.abort(new KubeRequestTimeoutError(method, path, idleTimeoutMs));
    else timer = setTimeout(idle, idleTimeoutMs - silentMs);
  };
  let timer = setTimeout(idle, idleTimeoutMs);
  const onAbort = (): void => {
    sent.abort(new KubeRequestAbortedError(method, path, signal?.reason));
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await sent.answer;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** The connections for one server and its TLS material. */
interface Pool {
  readonly key: string;
  /** The calls' kept-alive connections (src/http1/). */
  readonly origin: Origin;
  /** The watches' agent, made at the first watch. */
  agent: http.Agent | undefined;
  /** Host, User-Agent, Accept and the credentials' headers, as written in each call's head. */
  fixedHeaders:
    { readonly credentials: Credentials; readonly userAgent: string; readonly text: string } | undefined;
}

/**
 * How long a call's connection is kept idle: well below the 90 s after which the API server closes
 * an idle connection (k8s.io/apiserver's secure serving), so a request seldom goes out on one it is
 * closing; a PUT or GET that does is sent again on a new one.
 */
const KUBE_IDLE_CONNECTION_MS = 30_000;

/** An answer's framing or a request's header that cannot be sent: the exchange failed, the caller retries. */
export class KubeHttpError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'KubeHttpError';
  }
}

const kubeHttpErrorOf = (message: string): Error => new KubeHttpError(message);

/** The API server's answers: the whole body (a list of any size) and the headers, for KubeApiError. */
const KUBE_ANSWERS: ReaderOptions = { maxBodyBytes: Infinity, keepHeaders: true, errorOf: kubeHttpErrorOf };

function newPool(credentials: Credentials): Pool {
  return {
    key: credentials.tlsKey,
    origin: newOrigin(new URL(credentials.server.origin), {
      tls: credentials.tls,
      reader: KUBE_ANSWERS,
      idleMs: KUBE_IDLE_CONNECTION_MS,
    }),
    agent: undefined,
    fixedHeaders: undefined,
  };
}

function retire(pool: Pool): void {
  closeOrigin(pool.origin);
  pool.agent?.destroy();
}

/** Characters that would end a request line early (or a header, for a content type). */
const UNSENDABLE = /[\s]/;

/** `path` with the API server's `timeout` parameter (a Go duration; whole milliseconds, at least 1). */
export function withTimeout(path: string, timeoutMs: number): string {
  return `${path}${path.includes('?') ? '&' : '?'}timeout=${Math.max(1, Math.floor(timeoutMs))}ms`;
}

function requestTarget(prefix: string, path: string): string {
  if (UNSENDABLE.test(path)) throw new KubeHttpError(`the path ${JSON.stringify(path)} has white space`);
  return prefix + path;
}

/** Content-Type and Content-Length of a body, and the blank line that ends the head. */
function bodyHeaders(method: Method, contentType: string, payload: string | undefined): string {
  if (payload === undefined) {
    // As node:http: no length for a GET or DELETE without a body, a length of 0 for the others.
    return method === 'GET' || method === 'DELETE' ? '\r\n' : 'content-length: 0\r\n\r\n';
  }
  if (/[\r\n]/.test(contentType)) throw new KubeHttpError('the content type has a line break');
  return `content-type: ${contentType}\r\ncontent-length: ${Buffer.byteLength(payload)}\r\n\r\n`;
}

const clients = new WeakMap<ClusterAccess, KubeHttp>();

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** How long credentials are reused before they are read again from the KubeConfig. */
export const CREDENTIALS_TTL_MS = 10_000;

/**
 * The API server closes a watch after 5–10 minutes; a watch with no byte for this long (not even a
 * bookmark) is taken for dead and restarted, as client-node's Watch does after 30 s.
 */
const WATCH_INACTIVITY_MS = 30_000;

/** A call (not a watch) that has received no byte for this long is abandoned; the caller retries. */
export const REQUEST_IDLE_TIMEOUT_MS = 30_000;

export class KubeRequestTimeoutError extends Error {
  constructor(method: Method, path: string, ms: number) {
    super(`${method} ${path}: no answer from the API server within ${ms / 1000}s`);
    this.name = 'KubeRequestTimeoutError';
  }
}

/**
 * A call aborted through its CallOptions.signal; `cause` is the signal's reason. Named AbortError,
 * as node:http's and fetch's aborted requests are.
 */
export class KubeRequestAbortedError extends Error {
  constructor(method: Method, path: string, reason: unknown) {
    super(`${method} ${path}: aborted`, { cause: reason });
    this.name = 'AbortError';
  }
}

interface TlsOptions {
  readonly ca?: Buffer | string;
  readonly cert?: Buffer | string;
  readonly key?: Buffer | string;
  readonly rejectUnauthorized?: boolean;
  readonly servername?: string;
}

interface Server {
  /** The URL's origin: scheme, host and port. */
  readonly origin: string;
  readonly protocol: string;
  readonly hostname: string;
  readonly port: string;
  /** The server URL's path (an API server behind a proxy path), without a trailing slash. */
  readonly prefix: string;
}

interface Credentials {
  readonly server: Server;
  readonly headers: Record<string, string>;
  readonly tls: TlsOptions;
  readonly tlsKey: string;
}

async function readCredentials(kubeConfig: ClusterAccess): Promise<Credentials> {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const server = new URL(cluster.server);
  // The ClusterAccess fills in what every call needs: TLS material and the Authorization header
  // (tokens, exec plugins, OIDC, basic auth).
  const options: https.RequestOptions = {};
  await kubeConfig.applyToHTTPSOptions(options);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = String(value);
  }
  if (typeof options.auth === 'string')
    headers['authorization'] = `Basic ${Buffer.from(options.auth).toString('base64')}`;
  const tls = tlsOf(options);
  return {
    server: {
      origin: server.origin,
      protocol: server.protocol,
      // An IPv6 literal comes bracketed in a URL, and without brackets in a request's hostname.
      hostname: server.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: server.port,
      prefix: server.pathname.replace(/\/+$/, ''),
    },
    headers,
    tls,
    tlsKey: tlsKeyOf(server.origin, tls),
  };
}

/** The TLS material and checks of the KubeConfig's HTTPS options. */
function tlsOf(options: https.RequestOptions): TlsOptions {
  const material = (value: unknown): Buffer | string | undefined =>
    typeof value === 'string' || Buffer.isBuffer(value) ? value : undefined;
  const [ca, cert, key] = [material(options.ca), material(options.cert), material(options.key)];
  return {
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    ...(options.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: options.rejectUnauthorized }),
    ...(options.servername === undefined ? {} : { servername: options.servername }),
  };
}

/** Equal for the same server and TLS material: the pool can be kept. */
function tlsKeyOf(origin: string, tls: TlsOptions): string {
  const text = (value: Buffer | string | undefined): string =>
    value === undefined ? '' : typeof value === 'string' ? value : value.toString('base64');
  return [origin, text(tls.ca), text(tls.cert), text(tls.key), tls.rejectUnauthorized, tls.servername].join(
    '|',
  );
}

function newAgent(server: Server, tls: TlsOptions): http.Agent {
  // Node's own HTTP/1.1 client on keep-alive connections: as cheap in CPU as undici's, without the
  // WebAssembly HTTP parser undici compiles (about 11 MiB of RSS; docs/benchmarks.md, F11), and
  // cheaper than undici's HTTP/2 path, which client-node's calls take (F10).
  const options = { keepAlive: true, keepAliveMsecs: 30_000, scheduling: 'lifo' as const };
  return server.protocol === 'http:' ? new http.Agent(options) : new https.Agent({ ...options, ...tls });
}

/** `path` with the query's defined parameters (`?limit=500&continue=…`). */
export function withQuery(
  path: string,
  query: Readonly<Record<string, string | number | boolean | undefined>>,
): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
  const text = params.toString();
  return text === '' ? path : `${path}?${text}`;
}

function watchQuery(query: Readonly<Record<string, string | number | boolean | undefined>>): string {
  const params = new URLSearchParams({ watch: 'true' });
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
  return params.toString();
}

async function readText(response: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The API server's refusal, with its Status body and the answer's headers. */
function apiException(response: http.IncomingMessage, body: string): KubeApiError {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return new KubeApiError(response.statusCode ?? 0, body, flat);
}

/** Splits a byte stream into lines (UTF-8 safe across chunks); the last, unfinished line waits. */
export class LineSplitter {
  readonly #decoder = new StringDecoder('utf8');
  readonly #onLine: (line: string) => void;
  #rest = '';

  constructor(onLine: (line: string) => void) {
    this.#onLine = onLine;
  }

  push(chunk: Buffer): void {
    const text = this.#rest + this.#decoder.write(chunk);
    let start = 0;
    for (let newline = text.indexOf('\n'); newline >= 0; newline = text.indexOf('\n', start)) {
      if (newline > start) this.#onLine(text.slice(start, newline));
      start = newline + 1;
    }
    this.#rest = start === 0 ? text : text.slice(start);
  }
}
