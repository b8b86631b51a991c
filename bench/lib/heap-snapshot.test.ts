import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { summarizeHeap } from './heap-snapshot.ts';

const MiB = 2 ** 20;
const TYPES = ['hidden', 'array', 'string', 'object', 'code', 'closure'];
const [STRING, OBJECT, CLOSURE] = [2, 3, 5];

/** A V8 heap snapshot cut down to its node table: type, name (string index), id, self_size, edge_count. */
const SNAPSHOT = {
  snapshot: {
    meta: {
      node_fields: ['type', 'name', 'id', 'self_size', 'edge_count'],
      node_types: [TYPES, 'string', 'number', 'number', 'number'],
      edge_fields: ['type', 'name_or_index', 'to_node'],
    },
    node_count: 5,
    edge_count: 0,
  },
  nodes: [
    ...[OBJECT, 1, 1, 1 * MiB, 0],
    ...[OBJECT, 1, 3, 1 * MiB, 0],
    ...[OBJECT, 2, 5, 0.5 * MiB, 0],
    ...[STRING, 3, 7, 3 * MiB, 0],
    ...[CLOSURE, 4, 9, 0.2 * MiB, 0],
  ],
  edges: [],
  strings: ['', 'Map', 'Object', 'a long string', 'onData'],
};

describe('summarizeHeap', () => {
  const directory = mkdtempSync(join(tmpdir(), 'greenlight-heap-snapshot-test-'));
  const file = join(directory, 'controller.heapsnapshot');
  writeFileSync(file, JSON.stringify(SNAPSHOT));

  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('sums the self size of the live heap by node type, largest first', () => {
    const summary = summarizeHeap(file);
    expect(summary.totalMiB).toBe(5.7);
    expect(summary.byType).toEqual([
      { type: 'string', MiB: 3, count: 1 },
      { type: 'object', MiB: 2.5, count: 3 },
      { type: 'closure', MiB: 0.2, count: 1 },
    ]);
  });

  it('groups objects by constructor and everything else by type, keeping the top ones', () => {
    expect(summarizeHeap(file).byConstructor).toEqual([
      { name: '(string)', MiB: 3, count: 1 },
      { name: 'Map', MiB: 2, count: 2 },
      { name: 'Object', MiB: 0.5, count: 1 },
      { name: '(closure)', MiB: 0.2, count: 1 },
    ]);
    expect(summarizeHeap(file, 2).byConstructor.map((entry) => entry.name)).toEqual(['(string)', 'Map']);
  });
});
