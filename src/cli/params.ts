import { UsageError } from '../errors.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A value as typed on the command line: numbers, booleans and null as such, anything else a string. */
export function parseScalar(text: string): Json {
  if (/^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/.test(text)) return Number(text);
  if (text === 'true' || text === 'false') return text === 'true';
  if (text === 'null') return null;
  return text;
}

/**
 * Parses `--param` values into request parameters: `amount=450` (a number), `currency=USD`,
 * `rollout.waves:=[10,50,100]` (raw JSON after `:=`), and dotted keys for nested objects.
 */
export function parseParams(
  entries: readonly string[],
  base: Record<string, Json> = {},
): Record<string, Json> {
  const result: Record<string, Json> = structuredClone(base);
  for (const entry of entries) {
    const raw = entry.indexOf(':=');
    const plain = entry.indexOf('=');
    const isRaw = raw >= 0 && raw < plain;
    const split = isRaw ? raw : plain;
    if (split <= 0) throw new UsageError(`--param expects key=value or key:=json, got "${entry}"`);
    const path = entry.slice(0, split).split('.');
    const text = entry.slice(split + (isRaw ? 2 : 1));
    let value: Json;
    try {
      value = isRaw ? (JSON.parse(text) as Json) : parseScalar(text);
    } catch (error) {
      throw new UsageError(`--param ${entry}: the value after := is not JSON`, { cause: error });
    }
    setPath(result, path, value, entry);
  }
  return result;
}

function setPath(target: Record<string, Json>, path: readonly string[], value: Json, entry: string): void {
  const [head, ...rest] = path;
  if (!head) throw new UsageError(`--param ${entry}: empty key`);
  if (rest.length === 0) {
    target[head] = value;
    return;
  }
  const next = target[head];
  const child: Record<string, Json> =
    next && typeof next === 'object' && !Array.isArray(next) ? next : (target[head] = {});
  setPath(child, rest, value, entry);
}
