import { createRequire } from 'node:module';
import type * as Http from 'node:http';
import type * as Https from 'node:https';

/**
 * node:http and node:https, loaded with require() instead of an ES module import. Importing a built-in
 * as an ES module builds its namespace from every export, reading each one, and node:http's
 * `WebSocket`, `CloseEvent` and `MessageEvent` are getters that load Node's bundled undici (fetch,
 * WebSocket) with HTTP/2, zlib, worker_threads and assert: about 14 MiB of RSS in a bare `node`, for
 * code the controller never runs (docs/benchmarks.md, F12). require() reads no export. Import the
 * modules' types with `import type`; their values from here.
 */
const load = createRequire(import.meta.url);

export const http = load('node:http') as typeof Http;
export const https = load('node:https') as typeof Https;
