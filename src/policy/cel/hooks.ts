import {
  celFunc,
  celList,
  CelScalar,
  celType,
  isCelList,
  isCelMap,
  isCelUint,
  type CelFunc,
  type CelList,
  type CelMap,
  type CelValue,
} from '@bufbuild/cel';
import { activeMeter } from './cost-meter.ts';
import { MAX_LIST_LENGTH } from './limits.ts';

/**
 * Functions that instrument.ts weaves into parsed expressions. Their names start with '@', which the
 * CEL grammar does not allow in identifiers, so no expression can call them directly.
 */
export const Hook = {
  /** `@gl_iteration(condition, units)`: charges one comprehension iteration, returns the condition. */
  Iteration: '@gl_iteration',
  /** `@gl_range(range)`: charges for the elements a comprehension is about to copy, returns the range. */
  Range: '@gl_range',
  /** `@gl_append(accumulator, element)`: the `map`/`filter` step `accumulator + [element]`, in O(1). */
  Append: '@gl_append',
  /** `@gl_index(container, key)`: `container[key]` for computed keys, charging map scans. */
  Index: '@gl_index',
} as const;
export type Hook = (typeof Hook)[keyof typeof Hook];

const { DYN, INT } = CelScalar;

export function hookFunctions(): CelFunc[] {
  return [
    celFunc(Hook.Iteration, [DYN, INT], DYN, (condition, units) => {
      activeMeter().charge(Number(units), 'a comprehension');
      return condition;
    }),
    celFunc(Hook.Range, [DYN], DYN, (range) => {
      if (isCelList(range) || isCelMap(range)) activeMeter().charge(range.size, 'a comprehension range');
      return range;
    }),
    celFunc(Hook.Append, [DYN, DYN], DYN, appendToAccumulator),
    celFunc(Hook.Index, [DYN, DYN], DYN, indexValue),
  ];
}

// The arrays behind the lists that `map` and `filter` are building. Only a comprehension's own
// accumulator is ever appended to, and no expression can observe it until the comprehension is done,
// so growing it in place is safe and makes building an n-element list O(n) rather than O(n²).
const accumulating = new WeakMap<CelList, CelValue[]>();

function appendToAccumulator(accumulator: CelValue, element: CelValue): CelValue {
  if (!isCelList(accumulator)) throw new Error(`cannot append to ${celType(accumulator).name}`);
  const meter = activeMeter();
  const items = accumulating.get(accumulator);
  if (items === undefined) {
    meter.charge(accumulator.size + 1, 'list construction');
    const started = [...accumulator, element];
    const list = celList(started);
    accumulating.set(list, started);
    return list;
  }
  if (items.length >= MAX_LIST_LENGTH) {
    meter.refuse(`a list would grow past ${MAX_LIST_LENGTH} elements`);
  }
  meter.charge(1, 'list construction');
  items.push(element);
  return accumulator;
}

function indexValue(container: CelValue, key: CelValue): CelValue {
  if (isCelList(container)) return listElement(container, key);
  if (isCelMap(container)) return mapEntry(container, key);
  throw new Error(`no such overload: ${celType(container).name}[${celType(key).name}]`);
}

function listElement(list: CelList, key: CelValue): CelValue {
  const index = listIndex(key);
  const element = index >= 0 && index < list.size ? list.get(index) : undefined;
  if (element === undefined) throw new Error(`index ${index} out of bounds [0, ${list.size})`);
  return element;
}

function listIndex(key: CelValue): number {
  if (typeof key === 'bigint') return Number(key);
  if (isCelUint(key)) return Number(key.value);
  if (typeof key === 'number' && Number.isInteger(key)) return key;
  throw new Error(`a list index must be an int, not ${celType(key).name}`);
}

function mapEntry(map: CelMap, key: CelValue): CelValue {
  if (!isMapKey(key)) throw new Error(`unsupported map key type: ${celType(key).name}`);
  // A numeric key that is not found directly makes the map scan all its keys for uint ones.
  if (typeof key !== 'string' && typeof key !== 'boolean') activeMeter().charge(map.size, 'a map lookup');
  const value = map.get(key);
  if (value === undefined) throw new Error(`no such key: ${keyText(key)}`);
  return value;
}

type MapKey = Parameters<CelMap['get']>[0];

function isMapKey(key: CelValue): key is MapKey {
  return (
    typeof key === 'string' ||
    typeof key === 'boolean' ||
    typeof key === 'bigint' ||
    typeof key === 'number' ||
    isCelUint(key)
  );
}

function keyText(key: MapKey): string {
  if (isCelUint(key)) return `${key.value}u`;
  return typeof key === 'string' ? key : String(key);
}
