import { celFunc, celList, CelScalar, listType, type CelFunc } from '@bufbuild/cel';
import { textUnits } from './cost-model.ts';
import { activeMeter, type CostMeter } from './cost-meter.ts';
import { MAX_LIST_LENGTH, MAX_STRING_LENGTH } from './limits.ts';

const { BYTES, DYN, STRING } = CelScalar;

/**
 * `_+_` for strings, bytes and lists, replacing the standard overloads (same signatures): each
 * refuses to build a value past the size limits and pays for the size it builds. Lists are copied
 * rather than chained, so reading a concatenation stays O(1) per element however it was built.
 */
export function concatenations(): CelFunc[] {
  return [
    celFunc('_+_', [STRING, STRING], STRING, (left, right) => {
      chargeText(activeMeter(), left.length + right.length, 'string');
      return left + right;
    }),
    celFunc('_+_', [BYTES, BYTES], BYTES, (left, right) => {
      chargeText(activeMeter(), left.length + right.length, 'bytes');
      const joined = new Uint8Array(left.length + right.length);
      joined.set(left);
      joined.set(right, left.length);
      return joined;
    }),
    celFunc('_+_', [listType(DYN), listType(DYN)], listType(DYN), (left, right) => {
      const meter = activeMeter();
      const size = left.size + right.size;
      if (size > MAX_LIST_LENGTH)
        meter.refuse(`a list would grow to ${size} elements, past ${MAX_LIST_LENGTH}`);
      meter.charge(size, 'list concatenation');
      return celList([...left, ...right]);
    }),
  ];
}

export function chargeText(meter: CostMeter, length: number, kind: string): void {
  if (length > MAX_STRING_LENGTH) {
    meter.refuse(`a ${kind} value would grow to ${length} characters, past ${MAX_STRING_LENGTH}`);
  }
  meter.charge(textUnits(length), `${kind} concatenation`);
}
