/**
 * Removes secrets from anything about to be logged: values under keys that name a secret, and
 * token-shaped text anywhere in strings (messages, error messages and stacks, nested fields).
 * Everything returned is a fresh, JSON-safe copy: the caller's objects are never changed.
 */

export const REDACTED = '[REDACTED]';

/** Keys whose value is a secret whatever it looks like (`token`, `botToken`, `SLACK_SIGNING_SECRET`, …). */
const SECRET_KEY = /token|secret|password|passwd|passphrase|authorization|cookie|credential|api[-_]?key/i;

/**
 * Secret-shaped text, in the order they are applied (`Bearer` before `key: value`, so that
 * `Authorization: Bearer abc` keeps its scheme and loses its credential). Word lengths are bounded
 * so that long unbroken text cannot make the patterns backtrack for long.
 */
const SECRET_TEXT: readonly (readonly [RegExp, string])[] = [
  // Slack tokens: bot, user, app-level, workspace, refresh (xoxb-, xoxp-, xapp-, xoxa-, xoxe-, …).
  [/\bx(?:ox[a-z]|app)-[\w-]+/g, REDACTED],
  // HTTP bearer credentials.
  [/\b(Bearer)\s+[\w.~+/=-]+/gi, `$1 ${REDACTED}`],
  // JSON Web Tokens, such as Kubernetes service-account tokens.
  [/\beyJ[\w-]*\.[\w-]+\.[\w-]*/g, REDACTED],
  // Passwords in URLs: scheme://user:password@host.
  [/(\/\/[^\s/:@]{1,256}:)[^\s/@]{1,1024}@/g, `$1${REDACTED}@`],
  // `token=…`, `"signingSecret": "…"`, `password: …` inside text (query strings, serialized JSON).
  [
    /(\w{0,32}(?:token|secret|password|passwd|authorization|api[-_]?key)\w{0,32}["']?\s*[:=]\s*["']?(?:(?:Bearer|Basic)\s+)?)[^\s"'&,;]+/gi,
    `$1${REDACTED}`,
  ],
];

const UNSERIALIZABLE = '[Unserializable]';

/** Deeper structures are cut off: logs are not the place for them. */
const MAX_DEPTH = 8;

/**
 * Text none of SECRET_TEXT can match: each pattern needs one of these (a superset, case aside). One
 * test instead of five replaces for the common line with nothing secret in it (docs/benchmarks.md, F10).
 */
const MAYBE_SECRET = /x(?:ox[a-z]|app)-|bearer|eyJ|@|token|secret|passw|authorization|api[-_]?key/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

export function redactText(text: string): string {
  if (!MAYBE_SECRET.test(text)) return text;
  return SECRET_TEXT.reduce(
    (redacted, [pattern, replacement]) => redacted.replace(pattern, replacement),
    text,
  );
}

/** A JSON-safe copy of `value` without secrets. */
export function redact(value: unknown): unknown {
  return redactValue(value, [], 0);
}

/** The value of a field named `key`, without secrets. */
export function redactField(key: string, value: unknown): unknown {
  return redactKeyed(key, value, [], 0);
}

function redactKeyed(key: string, value: unknown, ancestors: readonly object[], depth: number): unknown {
  const hidden = isSecretKey(key) && value !== undefined && value !== null;
  return hidden ? REDACTED : redactValue(value, ancestors, depth);
}

function redactValue(value: unknown, ancestors: readonly object[], depth: number): unknown {
  if (typeof value === 'string') return redactText(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (typeof value !== 'object' || value === null) return value;
  if (ancestors.includes(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  return redactObject(value, [...ancestors, value], depth + 1);
}

function redactObject(value: object, ancestors: readonly object[], depth: number): unknown {
  if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  if (Array.isArray(value) || value instanceof Set) {
    return Array.from(value as Iterable<unknown>, (item) => redactValue(item, ancestors, depth));
  }
  if (value instanceof Map) return redactEntries(mapEntries(value), ancestors, depth);
  if (value instanceof Error) return redactEntries(errorEntries(value), ancestors, depth);
  const viaJSON = toJSONOf(value);
  if (viaJSON !== undefined) return redactValue(viaJSON.json, ancestors, depth);
  return redactEntries(Object.entries(value), ancestors, depth);
}

/** What `JSON.stringify` would use for an object with a `toJSON` method; a failing one must not break a line. */
function toJSONOf(value: object): { readonly json: unknown } | undefined {
  try {
    const toJSON: unknown = Reflect.get(value, 'toJSON');
    if (typeof toJSON !== 'function') return undefined;
    const json: unknown = Reflect.apply(toJSON, value, []);
    return { json };
  } catch {
    return { json: UNSERIALIZABLE };
  }
}

function redactEntries(
  entries: readonly (readonly [string, unknown])[],
  ancestors: readonly object[],
  depth: number,
): Record<string, unknown> {
  return Object.fromEntries(entries.map(([key, value]) => [key, redactKeyed(key, value, ancestors, depth)]));
}

function mapEntries(map: ReadonlyMap<unknown, unknown>): [string, unknown][] {
  return Array.from(map, ([key, value]) => [String(key), value]);
}

/** An error's name, message, own fields (`code`, `response`, …), stack and cause. */
function errorEntries(error: Error): [string, unknown][] {
  return [
    ['name', error.name],
    ['message', error.message],
    ...Object.entries(error),
    ['stack', error.stack],
    ['cause', error.cause],
  ];
}
