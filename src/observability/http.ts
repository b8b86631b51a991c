/**
 * The controller's small HTTP servers: `--metrics-bind-address` (`GET /metrics`) and
 * `--health-probe-bind-address` (`/healthz`, `/readyz`). Bind addresses read like controller-runtime's:
 * `:8080` (every interface), `127.0.0.1:8080`, `[::1]:8080`, `:0` (any free port), `0` (disabled).
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, messageOf } from '../errors.ts';

export const HttpMethod = {
  Get: 'GET',
  Post: 'POST',
  Put: 'PUT',
  Patch: 'PATCH',
  Delete: 'DELETE',
} as const;
export type HttpMethod = (typeof HttpMethod)[keyof typeof HttpMethod];

export interface ListenAddress {
  readonly enabled: true;
  /** undefined: every interface, as Go's `:8080`. */
  readonly host: string | undefined;
  readonly port: number;
}
export type BindAddress = { readonly enabled: false } | ListenAddress;

export interface HttpRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface HttpResponse {
  readonly status: number;
  readonly body: string;
  /** `text/plain; charset=utf-8` unless given. */
  readonly contentType?: string;
}

export type RouteHandler = (request: HttpRequest) => HttpResponse | Promise<HttpResponse>;

/** Handlers by path and method; a `GET` handler answers `HEAD` too. */
export type Routes = Readonly<Record<string, Partial<Readonly<Record<HttpMethod, RouteHandler>>>>>;

export interface HttpServerOptions {
  /** A bind address flag's value (see `parseBindAddress`). */
  readonly address: string;
  readonly routes: Routes;
  /**
   * Told about a handler that threw (the client gets a bare 500), and without a request about the
   * server failing once it listens (for example out of file descriptors).
   */
  readonly onError?: (error: unknown, request?: { readonly method: string; readonly path: string }) => void;
}

export interface RunningHttpServer {
  /** The address actually bound (`::` or `0.0.0.0` for every interface). */
  readonly host: string;
  /** The port actually bound: the kernel's choice for `:0`. */
  readonly port: number;
  /** Stops accepting connections and resolves once the open requests are answered. */
  close(): Promise<void>;
}

const TEXT = 'text/plain; charset=utf-8';
/** Larger request bodies are refused (413): these endpoints take small payloads or none. */
const MAX_BODY_BYTES = 1024 * 1024;
/** `host:port`, `:port` or `[ipv6]:port`; the host a name or an address, the port digits. */
const HOST_PORT = /^(?:\[([\w:.%]+)\]|([\w.-]*)):(\d{1,5})$/;

/**
 * Parses a bind address as controller-runtime does: `host:port`, `:port` (every interface),
 * `[ipv6]:port`, and `0` (or empty) to disable the server.
 */
export function parseBindAddress(value: string): BindAddress {
  if (value === '' || value === '0') return { enabled: false };
  const [, ipv6, host, port] = HOST_PORT.exec(value) ?? [];
  const number = Number(port);
  if (port === undefined || number > 65_535) throw invalidAddress(value);
  return { enabled: true, host: ipv6 ?? (host === '' ? undefined : host), port: number };
}

function invalidAddress(value: string): ConfigError {
  return new ConfigError(
    `invalid bind address ${JSON.stringify(value)}: want ":8080", "127.0.0.1:8080", "[::1]:8080", or "0" to disable`,
  );
}

/** Starts serving `routes` on `address`; undefined when the address disables the server. */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer | undefined> {
  const address = parseBindAddress(options.address);
  if (!address.enabled) return undefined;
  const routes = new Map(Object.entries(options.routes));
  const server = createServer((request, response) => {
    void respond(request, response, routes, options.onError);
  });
  await listen(server, address, options.address);
  server.on('error', (error) => options.onError?.(error));
  const bound = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    host: bound.address,
    port: bound.port,
    close(): Promise<void> {
      closing ??= new Promise((resolve, reject) => {
        server.close((error) => {
          if (error) reject(error);
          else resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

function listen(server: Server, address: ListenAddress, flagValue: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: Error): void => {
      reject(new ConfigError(`cannot listen on ${flagValue}: ${messageOf(error)}`, { cause: error }));
    };
    server.once('error', failed);
    server.listen({ host: address.host, port: address.port }, () => {
      server.off('error', failed);
      resolve();
    });
  });
}

type RouteTable = ReadonlyMap<string, Routes[string]>;

async function respond(
  request: IncomingMessage,
  response: ServerResponse,
  routes: RouteTable,
  onError: HttpServerOptions['onError'],
): Promise<void> {
  const method = request.method ?? HttpMethod.Get;
  const url = new URL(request.url ?? '/', 'http://localhost');
  try {
    send(response, method, await route(request, method, url, routes));
  } catch (error) {
    onError?.(error, { method, path: url.pathname });
    send(response, method, { status: 500, body: 'internal server error\n' });
  }
}

async function route(
  request: IncomingMessage,
  method: string,
  url: URL,
  routes: RouteTable,
): Promise<HttpResponse & { readonly allow?: string }> {
  const handlers = routes.get(url.pathname);
  if (handlers === undefined) return { status: 404, body: '404 page not found\n' };
  const handler = handlerFor(handlers, method);
  if (handler === undefined) {
    return { status: 405, body: 'method not allowed\n', allow: allowedMethods(handlers).join(', ') };
  }
  const body = await readBody(request);
  if (body === undefined) return { status: 413, body: 'request body too large\n' };
  return handler({ method, url, headers: request.headers, body });
}

const HTTP_METHODS: readonly string[] = Object.values(HttpMethod);

function isHttpMethod(method: string): method is HttpMethod {
  return HTTP_METHODS.includes(method);
}

function handlerFor(handlers: Routes[string], method: string): RouteHandler | undefined {
  const key = method === 'HEAD' ? HttpMethod.Get : method;
  return isHttpMethod(key) ? handlers[key] : undefined;
}

function allowedMethods(handlers: Routes[string]): string[] {
  const methods = Object.values(HttpMethod).filter((method) => handlers[method] !== undefined);
  return methods.includes(HttpMethod.Get) ? [...methods, 'HEAD'] : methods;
}

/** The request body as text; undefined when it is larger than MAX_BODY_BYTES. */
async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(
  response: ServerResponse,
  method: string,
  result: HttpResponse & { readonly allow?: string },
): void {
  response.statusCode = result.status;
  response.setHeader('Content-Type', result.contentType ?? TEXT);
  response.setHeader('Content-Length', Buffer.byteLength(result.body));
  response.setHeader('Cache-Control', 'no-store');
  response.setHeader('X-Content-Type-Options', 'nosniff');
  if (result.allow !== undefined) response.setHeader('Allow', result.allow);
  if (result.status === 413) response.setHeader('Connection', 'close');
  response.end(method === 'HEAD' ? undefined : result.body);
}

/** What `GET /metrics` serves: anything that renders a Prometheus exposition (`GreenlightMetrics`). */
export interface MetricsSource {
  metrics(): Promise<{ readonly contentType: string; readonly body: string }>;
}

export function metricsRoutes(source: MetricsSource): Routes {
  return {
    '/metrics': {
      GET: async () => {
        const { contentType, body } = await source.metrics();
        return { status: 200, contentType, body };
      },
    },
  };
}

/** A named health check: true when healthy. A check that throws counts as failed. */
export type HealthCheck = () => boolean | Promise<boolean>;
export type HealthChecks = Readonly<Record<string, HealthCheck>>;

export interface HealthOptions {
  /** `/healthz`: the process is alive; `ping` (always true) by default. */
  readonly liveness?: HealthChecks;
  /** `/readyz`: for example `{ 'informer-sync': () => caches.synced }`. */
  readonly readiness: HealthChecks;
}

/**
 * `/healthz` and `/readyz` in the style of kube-apiserver: `ok` when every check passes; otherwise
 * 503 and one line per check (`[+]name ok`, `[-]name failed: reason withheld`). `?verbose` lists the
 * checks when they pass too, `?exclude=name` (repeatable) leaves checks out.
 */
export function healthRoutes(options: HealthOptions): Routes {
  const liveness = options.liveness ?? { ping: (): boolean => true };
  return {
    '/healthz': { GET: (request) => runChecks('healthz', liveness, request.url.searchParams) },
    '/readyz': { GET: (request) => runChecks('readyz', options.readiness, request.url.searchParams) },
  };
}

async function runChecks(
  endpoint: string,
  checks: HealthChecks,
  query: URLSearchParams,
): Promise<HttpResponse> {
  const excluded = new Set(query.getAll('exclude'));
  const selected = Object.entries(checks).filter(([name]) => !excluded.has(name));
  const results = await Promise.all(
    selected.map(async ([name, check]) => ({ name, passed: await passes(check) })),
  );
  const healthy = results.every(({ passed }) => passed);
  if (healthy && !query.has('verbose')) return { status: 200, body: 'ok' };
  const lines = results.map(({ name, passed }) =>
    passed ? `[+]${name} ok` : `[-]${name} failed: reason withheld`,
  );
  const verdict = `${endpoint} check ${healthy ? 'passed' : 'failed'}`;
  return { status: healthy ? 200 : 503, body: [...lines, verdict, ''].join('\n') };
}

async function passes(check: HealthCheck): Promise<boolean> {
  try {
    return await check();
  } catch {
    return false;
  }
}
