import { celList, celMap, type CelValue } from '@bufbuild/cel';
import { messageOf } from '../../errors.ts';
import { MAX_INPUT_DEPTH } from './limits.ts';

export type Conversion =
  { readonly ok: true; readonly value: CelValue } | { readonly ok: false; readonly message: string };

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Converts a JSON value (as JSON.parse or a Kubernetes client returns it) to a CEL value: integral
 * numbers that are safe integers become `int`, other numbers (fractions, huge values, NaN, ±Infinity)
 * `double`; objects become maps with string keys, arrays lists. Anything else is read the way
 * JSON.stringify would write it: toJSON() is honoured (so a Date becomes its RFC 3339 string),
 * undefined, functions and symbols are dropped from objects and read as null in arrays. Never throws:
 * a cycle, nesting deeper than MAX_INPUT_DEPTH or a throwing getter gives a failed conversion.
 * Objects reached twice (not cyclically) are converted once.
 * Note that @bufbuild/cel's has() and `in` treat a key whose value is null as absent.
 */
export function celValueFromJson(input: unknown, name = 'value'): Conversion {
  const converter = new Converter();
  try {
    return { ok: true, value: converter.convert(input) };
  } catch (error) {
    return { ok: false, message: `cannot read ${name}${converter.where()}: ${messageOf(error)}` };
  }
}

class Converter {
  readonly #path: string[] = [];
  readonly #ancestors = new Set<object>();
  readonly #converted = new Map<object, CelValue>();

  where(): string {
    const path = this.#path;
    if (path.length === 0) return '';
    const shown = path.length <= 8 ? path : [...path.slice(0, 4), '…', ...path.slice(-3)];
    return ` at ${shown.join('')}`;
  }

  convert(value: unknown): CelValue {
    switch (typeof value) {
      case 'string':
      case 'boolean':
        return value;
      case 'number':
        return numberValue(value);
      case 'bigint':
        return int64(value);
      case 'object':
        return value === null ? null : this.#object(value);
      case 'undefined':
      case 'function':
      case 'symbol':
        return null;
    }
  }

  #object(value: object): CelValue {
    const done = this.#converted.get(value);
    if (done !== undefined) return done;
    if (this.#ancestors.has(value)) throw new Error('the value contains itself');
    if (this.#ancestors.size >= MAX_INPUT_DEPTH)
      throw new Error(`nested deeper than ${MAX_INPUT_DEPTH} levels`);
    this.#ancestors.add(value);
    try {
      const converted = this.#structure(jsonView(value));
      this.#converted.set(value, converted);
      return converted;
    } finally {
      this.#ancestors.delete(value);
    }
  }

  #structure(value: unknown): CelValue {
    if (typeof value !== 'object' || value === null) return this.convert(value);
    return Array.isArray(value) ? this.#array(value) : this.#record(value);
  }

  #array(array: readonly unknown[]): CelValue {
    const elements: CelValue[] = [];
    for (let i = 0; i < array.length; i++) elements.push(this.#at(`[${i}]`, array[i]));
    return celList(elements);
  }

  #record(record: object): CelValue {
    const entries = new Map<string, CelValue>();
    for (const [key, value] of Object.entries(record)) {
      if (value === undefined || typeof value === 'function' || typeof value === 'symbol') continue;
      entries.set(key, this.#at(`.${key}`, value));
    }
    return celMap(entries);
  }

  #at(segment: string, value: unknown): CelValue {
    this.#path.push(segment);
    const converted = this.convert(value);
    this.#path.pop();
    return converted;
  }
}

/** JSON does not tell integers from doubles; a safe integer is taken to be an int. */
function numberValue(value: number): CelValue {
  return Number.isSafeInteger(value) ? BigInt(value) : value;
}

function int64(value: bigint): CelValue {
  if (value < INT64_MIN || value > INT64_MAX) throw new Error(`${value} is out of the int64 range`);
  return value;
}

/** What JSON.stringify would serialize for `value`: the result of its toJSON() if it has one. */
function jsonView(value: object): unknown {
  const toJSON: unknown = (value as { toJSON?: unknown }).toJSON;
  return typeof toJSON === 'function' ? (toJSON as () => unknown).call(value) : value;
}
