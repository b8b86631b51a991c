import { UsageError } from '../errors.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * A value as typed on the command line, read like a YAML 1.2 core scalar: true/True/TRUE and
 * false/False/FALSE are booleans, null/Null/NULL/~ is null, numbers written as JSON writes them are
 * numbers (a leading zero keeps `007` a string), anything else is a string.
 */
export function parseScalar(text: string): Json {
  if (/^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/.test(text)) return Number(text);
  if (/^(true|True|TRUE)$/.test(text)) return true;
  if (/^(false|False|FALSE)$/.test(text)) return false;
  if (/^(null|Null|NULL|~)$/.test(text)) return null;
  return text;
}

/** Words that YAML 1.1 (and so some tools) read as booleans, but YAML 1.2 and Greenlight as strings. */
const YAML11_BOOLEANS = /^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/;

/**
 * The parameters as they will be sent, one `key = value (type)` per line, with a note for strings that
 * look like another type: a rule comparing `params.reversible == true` never matches the string "yes".
 */
export function describeParams(parameters: Readonly<Record<string, unknown>>, prefix = ''): string[] {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(parameters)) {
    const path = `${prefix}${key}`;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      lines.push(...describeParams(value as Record<string, unknown>, `${path}.`));
      continue;
    }
    const type = value === null ? 'null' : Array.isArray(value) ? 'list' : typeof value;
    const note =
      typeof value === 'string' && YAML11_BOOLEANS.test(value)
        ? ` — a string, not a boolean: write ${path}=true or ${path}=false for one`
        : '';
    lines.push(`${path} = ${JSON.stringify(value)} (${type === 'boolean' ? 'bool' : type})${note}`);
  }
  return lines;
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
