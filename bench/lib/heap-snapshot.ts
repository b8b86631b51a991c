/**
 * Reads a V8 heap snapshot (node --heapsnapshot-signal; V8 collects garbage before writing it) and
 * says what the live heap holds: self size by node type and by constructor.
 *
 *   node bench/lib/heap-snapshot.ts FILE.heapsnapshot
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  readonly snapshot: {
    readonly meta: {
      readonly node_fields: readonly string[];
      readonly node_types: readonly [readonly string[], ...unknown[]];
    };
  };
  readonly nodes: readonly number[];
  readonly strings: readonly string[];
}

export interface HeapSummary {
  readonly totalMiB: number;
  readonly byType: readonly { readonly type: string; readonly MiB: number; readonly count: number }[];
  readonly byConstructor: readonly { readonly name: string; readonly MiB: number; readonly count: number }[];
}

const toMiB = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;

export function summarizeHeap(file: string, top = 15): HeapSummary {
  const heap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = heap.snapshot.meta.node_fields;
  const types = heap.snapshot.meta.node_types[0];
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = [
    fields.indexOf('type'),
    fields.indexOf('name'),
    fields.indexOf('self_size'),
  ];
  const byType = new Map<string, { bytes: number; count: number }>();
  const byName = new Map<string, { bytes: number; count: number }>();
  let total = 0;
  const add = (map: Map<string, { bytes: number; count: number }>, key: string, bytes: number): void => {
    const entry = map.get(key) ?? { bytes: 0, count: 0 };
    entry.bytes += bytes;
    entry.count += 1;
    map.set(key, entry);
  };
  for (let offset = 0; offset < heap.nodes.length; offset += width) {
    const type = types[heap.nodes[offset + typeAt] ?? 0] ?? 'unknown';
    const size = heap.nodes[offset + sizeAt] ?? 0;
    total += size;
    add(byType, type, size);
    const name = type === 'object' ? (heap.strings[heap.nodes[offset + nameAt] ?? 0] ?? '?') : `(${type})`;
    add(byName, name, size);
  }
  const ranked = (map: Map<string, { bytes: number; count: number }>) =>
    [...map.entries()].sort((a, b) => b[1].bytes - a[1].bytes);
  return {
    totalMiB: toMiB(total),
    byType: ranked(byType).map(([type, entry]) => ({ type, MiB: toMiB(entry.bytes), count: entry.count })),
    byConstructor: ranked(byName)
      .slice(0, top)
      .map(([name, entry]) => ({ name, MiB: toMiB(entry.bytes), count: entry.count })),
  };
}

if (import.meta.filename === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node bench/lib/heap-snapshot.ts FILE.heapsnapshot');
    process.exit(2);
  }
  const summary = summarizeHeap(file, 25);
  console.log(`live heap ${summary.totalMiB} MiB\n`);
  for (const entry of summary.byType)
    console.log(`${String(entry.MiB).padStart(8)} MiB  ${String(entry.count).padStart(9)}  ${entry.type}`);
  console.log('');
  for (const entry of summary.byConstructor)
    console.log(`${String(entry.MiB).padStart(8)} MiB  ${String(entry.count).padStart(9)}  ${entry.name}`);
}
