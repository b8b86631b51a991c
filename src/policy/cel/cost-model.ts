import { isCelList, isCelMap, type CelMap, type CelValue } from '@bufbuild/cel';

/**
 * What evaluation costs, in units of roughly one evaluated AST node (a fraction of a microsecond).
 * Every kind of work whose amount the inputs or the expression can inflate is charged:
 * - a comprehension (`all`, `exists`, `exists_one`, `map`, `filter`) pays, per iteration, one unit plus
 *   one per node of its loop body, and one per element of the range it iterates;
 * - a function call pays for the characters or bytes its arguments make it read (1 unit per
 *   CHARS_PER_UNIT), more for the slow ones below; `==`, `!=` and `in` pay for every element and
 *   character they may compare, however deeply nested or shared;
 * - whatever builds a value (concatenation, `map`, `filter`, `join`, `split`) pays for its size.
 */

export const CHARS_PER_UNIT = 16;

/** int('…') and uint('…') parse through BigInt, far slower per character than a scan. */
export const PARSE_CHARS_PER_UNIT = 2;

/** lowerAscii() and upperAscii() rebuild their string one character at a time. */
export const CASE_MAPPING_CHARS_PER_UNIT = 4;

/** A timestamp accessor given a time zone builds an Intl.DateTimeFormat on every call. */
export const TIME_ZONE_UNITS = 500;

/** RE2 compiles the pattern on every `matches` call; compiling costs this much per pattern character. */
export const REGEX_COMPILE_UNITS_PER_CHAR = 16;

/** RE2 matching is linear in text length times pattern size; this many (text × pattern) cells per unit. */
export const REGEX_CELLS_PER_UNIT = 2;

export function textUnits(length: number, charsPerUnit = CHARS_PER_UNIT): number {
  return Math.ceil(length / charsPerUnit);
}

/** Units to read the string and bytes values among `values` once. */
export function readUnits(values: readonly CelValue[]): number {
  let units = 0;
  for (const value of values) {
    if (typeof value === 'string' || value instanceof Uint8Array) units += textUnits(value.length);
  }
  return units;
}

export function regexUnits(text: string, pattern: string): number {
  const compile = pattern.length * REGEX_COMPILE_UNITS_PER_CHAR;
  return compile + Math.ceil(((text.length + 1) * (pattern.length + 1)) / REGEX_CELLS_PER_UNIT);
}

/**
 * Units to visit every element and character of `root`, reached through as many paths as lead to it
 * (so a list that shares one sub-list a million times counts it a million times), which bounds what
 * comparing it can cost. Stops counting once past `limit`: the caller only needs to know that the
 * budget cannot cover it.
 */
export function deepUnits(root: CelValue, limit: number): number {
  if (!isCelList(root) && !isCelMap(root)) return valueUnits(root);
  let units = 0;
  const pending: CelValue[] = [root];
  for (let value = pending.pop(); value !== undefined && units <= limit; value = pending.pop()) {
    if (isCelList(value)) {
      units += value.size;
      for (const element of value) pending.push(element);
    } else if (isCelMap(value)) {
      units += mapUnits(value, pending);
    } else {
      units += valueUnits(value);
    }
  }
  return units;
}

/** Units for a map's own entries, queueing its values. */
function mapUnits(map: CelMap, pending: CelValue[]): number {
  let units = map.size;
  let numericKeys = 0;
  for (const [key, value] of map) {
    if (typeof key === 'string') units += textUnits(key.length);
    else if (typeof key !== 'boolean') numericKeys++;
    pending.push(value);
  }
  // Looking up a numeric key that is not found directly makes the other map scan all its keys.
  return units + numericKeys * map.size;
}

/** Units for a scalar: its characters or bytes. */
function valueUnits(value: CelValue): number {
  return typeof value === 'string' || value instanceof Uint8Array ? textUnits(value.length) : 0;
}
