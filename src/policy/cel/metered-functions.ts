import {
  celEnv,
  celFunc,
  celMethod,
  isCelError,
  isCelList,
  isCelMap,
  type CelFunc,
  type CelInput,
  type CelResult,
  type CelValue,
} from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { chargeText } from './concatenation.ts';
import {
  CASE_MAPPING_CHARS_PER_UNIT,
  deepUnits,
  PARSE_CHARS_PER_UNIT,
  readUnits,
  regexUnits,
  textUnits,
  TIME_ZONE_UNITS,
} from './cost-model.ts';
import { activeMeter, type CostMeter } from './cost-meter.ts';
import { describeFunction } from './operators.ts';
import { MAX_LIST_LENGTH } from './limits.ts';

/**
 * Charges the meter for a call about to run; `values` are the receiver (if any) then the arguments,
 * `label` names the function in the message if the limit is passed.
 */
type Metering = (meter: CostMeter, values: readonly CelValue[], label: string) => void;

/**
 * String extensions whose cost is linear in what they read and write. Left out: `replace` (it
 * rebuilds and rescans the whole string for every occurrence, quadratic), `format` (output size not
 * known before formatting arbitrarily nested values) and `strings.quote` (no use in a policy).
 */
const SAFE_STRING_EXTENSIONS: ReadonlySet<string> = new Set([
  'charAt',
  'indexOf',
  'lastIndexOf',
  'lowerAscii',
  'upperAscii',
  'substring',
  'trim',
  'split',
  'join',
]);

const CONCATENATED_TYPES: ReadonlySet<string> = new Set(['string', 'bytes', 'list']);

const TIMESTAMP = 'google.protobuf.Timestamp';

/**
 * The standard library and the safe string extensions, every overload wrapped to charge the meter
 * before it runs. String, bytes and list concatenation are left to concatenation.ts.
 */
export function meteredFunctions(): CelFunc[] {
  const standard = [...celEnv().funcs].filter((fn) => !isConcatenation(fn));
  const extensions = strings.filter((fn) => SAFE_STRING_EXTENSIONS.has(fn.name));
  return [...standard, ...extensions].map((fn) => metered(fn, meteringFor(fn)));
}

function isConcatenation(fn: CelFunc): boolean {
  return fn.name === '_+_' && CONCATENATED_TYPES.has(fn.arguments[0]?.name ?? '');
}

function metered(fn: CelFunc, metering: Metering): CelFunc {
  const { name } = fn;
  const label = describeFunction(name);
  function impl(this: CelValue | undefined, ...args: CelValue[]): CelInput {
    metering(activeMeter(), this === undefined ? args : [this, ...args], label);
    return resultOf(fn.call(0, this, args), name);
  }
  return fn.target === undefined
    ? celFunc(name, fn.arguments, fn.result, impl)
    : celMethod(name, fn.target, fn.arguments, fn.result, impl);
}

function resultOf(result: CelResult | undefined, name: string): CelValue {
  if (result === undefined) throw new Error(`found no matching overload for '${name}'`);
  // Rethrown as a plain Error so that the error carries the id (source position) of this call.
  if (isCelError(result)) throw new Error(result.message);
  return result;
}

function meteringFor(fn: CelFunc): Metering {
  if (fn.target?.name === TIMESTAMP && fn.arguments.length === 1) return meterTimeZone;
  return METERINGS.get(fn.name) ?? meterReads;
}

const meterReads: Metering = (meter, values, label) => {
  meter.charge(readUnits(values), label);
};

const meterTimeZone: Metering = (meter, values, label) => {
  meter.charge(TIME_ZONE_UNITS + readUnits(values), label);
};

const meterEquality: Metering = (meter, [left = null, right = null], label) => {
  meter.charge(deepUnits(left, meter.remaining) + deepUnits(right, meter.remaining), label);
};

const meterMembership: Metering = (meter, [needle = null, haystack = null], label) => {
  const needleUnits = deepUnits(needle, meter.remaining);
  if (isCelList(haystack)) {
    meter.charge(needleUnits + deepUnits(haystack, meter.remaining), label);
  } else if (isCelMap(haystack)) {
    // Numeric keys make the map scan its keys; string and bool keys are looked up directly.
    const scan = typeof needle === 'string' || typeof needle === 'boolean' ? 0 : haystack.size;
    meter.charge(needleUnits + scan, label);
  }
};

const meterMatches: Metering = (meter, [text, pattern], label) => {
  if (typeof text === 'string' && typeof pattern === 'string') meter.charge(regexUnits(text, pattern), label);
};

const meterParse: Metering = (meter, [text], label) => {
  if (typeof text === 'string') meter.charge(textUnits(text.length, PARSE_CHARS_PER_UNIT), label);
};

const meterCaseMapping: Metering = (meter, [text], label) => {
  if (typeof text === 'string') meter.charge(textUnits(text.length, CASE_MAPPING_CHARS_PER_UNIT), label);
};

const meterJoin: Metering = (meter, [list, separator = ''], label) => {
  if (!isCelList(list) || typeof separator !== 'string') return;
  let length = separator.length * Math.max(0, list.size - 1);
  for (const item of list) if (typeof item === 'string') length += item.length;
  meter.charge(list.size, label);
  chargeText(meter, length, 'string');
};

const meterSplit: Metering = (meter, [text, separator, limit], label) => {
  if (typeof text !== 'string' || typeof separator !== 'string') return;
  meter.charge(textUnits(text.length), label);
  const pieces = Math.min(
    countPieces(text, separator),
    typeof limit === 'bigint' && limit >= 0n ? Number(limit) : Infinity,
  );
  if (pieces > MAX_LIST_LENGTH) meter.refuse(`split would make ${pieces} elements, past ${MAX_LIST_LENGTH}`);
  meter.charge(pieces, label);
};

function countPieces(text: string, separator: string): number {
  if (separator === '') return text.length;
  let pieces = 1;
  for (let at = text.indexOf(separator); at !== -1; at = text.indexOf(separator, at + separator.length)) {
    pieces++;
  }
  return pieces;
}

const METERINGS: ReadonlyMap<string, Metering> = new Map([
  ['_==_', meterEquality],
  ['_!=_', meterEquality],
  ['@in', meterMembership],
  ['matches', meterMatches],
  ['int', meterParse],
  ['uint', meterParse],
  ['lowerAscii', meterCaseMapping],
  ['upperAscii', meterCaseMapping],
  ['join', meterJoin],
  ['split', meterSplit],
]);
