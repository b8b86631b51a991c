import { isJsonArray, isJsonObject, parseJson, type Json, type JsonObject } from './json.ts';

/** A Web API call's arguments, as sent: form fields are strings, JSON bodies keep their types. */
export type Args = Readonly<Record<string, Json>>;

export type BodyParse =
  { readonly ok: true; readonly args: Args } | { readonly ok: false; readonly error: string };

/** Fields Slack takes as JSON text inside a form field. */
const JSON_FIELDS = ['blocks', 'attachments', 'metadata'] as const;

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

function formArgs(text: string): Args {
  return Object.fromEntries(new URLSearchParams(text));
}

function jsonArgs(text: string): BodyParse {
  const parsed = parseJson(text);
  if (parsed === undefined) return { ok: false, error: 'invalid_json' };
  return isJsonObject(parsed) ? { ok: true, args: parsed } : { ok: false, error: 'json_not_object' };
}

/**
 * Parses a request body the way Slack accepts it: `application/x-www-form-urlencoded` (what WebClient
 * sends) or `application/json`; an empty body has no arguments. Query parameters come first, the body
 * wins.
 */
export function parseArgs(query: URLSearchParams, contentType: string | undefined, body: string): BodyParse {
  const fromQuery: Args = Object.fromEntries(query);
  if (body.length === 0) return { ok: true, args: fromQuery };
  const type = mediaType(contentType);
  if (type === 'application/json') {
    const parsed = jsonArgs(body);
    return parsed.ok ? { ok: true, args: { ...fromQuery, ...parsed.args } } : parsed;
  }
  if (type === 'application/x-www-form-urlencoded' || type === '') {
    return { ok: true, args: { ...fromQuery, ...formArgs(body) } };
  }
  return { ok: false, error: 'invalid_form_data' };
}

/** The arguments as recorded for assertions: no token, and JSON-in-a-field decoded when it parses. */
export function recordedArgs(args: Args): Args {
  const recorded: Record<string, Json> = {};
  for (const [key, value] of Object.entries(args)) {
    if (key !== 'token') recorded[key] = value;
  }
  for (const field of JSON_FIELDS) {
    const value = recorded[field];
    if (typeof value === 'string') recorded[field] = parseJson(value) ?? value;
  }
  return recorded;
}

/** A scalar argument as text (form fields are text already; JSON numbers are accepted too). */
export function stringArg(args: Args, name: string): string | undefined {
  const value = args[name];
  if (typeof value === 'string') return value.length > 0 ? value : undefined;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

export function booleanArg(args: Args, name: string): boolean {
  const value = args[name];
  return value === true || value === 'true' || value === '1' || value === 1;
}

export function numberArg(args: Args, name: string): number | undefined {
  const text = stringArg(args, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

export type JsonField =
  { readonly present: false } | { readonly present: true; readonly value: Json | undefined };

/** A JSON argument: decoded when sent as text in a form field; `value` is `undefined` when it does not parse. */
export function jsonArg(args: Args, name: string): JsonField {
  const value = args[name];
  if (value === undefined || value === '' || value === null) return { present: false };
  return { present: true, value: typeof value === 'string' ? parseJson(value) : value };
}

export function isBlockList(value: Json | undefined): value is readonly JsonObject[] {
  return (
    isJsonArray(value) && value.every((block) => isJsonObject(block) && typeof block['type'] === 'string')
  );
}
