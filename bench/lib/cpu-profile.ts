/**
 * Reads a V8 `.cpuprofile` (node --cpu-prof) and says where the busy time went: by area (TLS, HTTP
 * client, JSON, logging, Greenlight's own code, …) and by function (self time).
 *
 *   node bench/lib/cpu-profile.ts FILE.cpuprofile
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileSummary {
  readonly busyMs: number;
  readonly idleMs: number;
  readonly areas: readonly { readonly area: string; readonly ms: number; readonly percent: number }[];
  readonly functions: readonly { readonly name: string; readonly ms: number; readonly percent: number }[];
}

const AREAS: readonly [string, (frame: ProfileNode['callFrame']) => boolean][] = [
  ['garbage collection', (f) => f.functionName === '(garbage collector)'],
  [
    'TLS and sockets',
    (f) =>
      /node:(internal\/)?(tls|_tls|net|crypto|stream\/|internal\/tls)/.test(f.url) ||
      /tls|TLS/.test(f.functionName),
  ],
  ['undici (HTTP client)', (f) => f.url.includes('/undici/')],
  ['client-node', (f) => f.url.includes('@kubernetes/client-node')],
  ['logging', (f) => /\/src\/observability\/(logger|redact)\.[jt]s$/.test(f.url)],
  ['metrics (prom-client)', (f) => f.url.includes('/prom-client/')],
  ['CEL', (f) => f.url.includes('@bufbuild/cel')],
  ['JSON', (f) => /^(parse|stringify)$/.test(f.functionName) && f.url === ''],
  ['Greenlight (src/)', (f) => f.url.includes('/src/')],
  ['other node internals', (f) => f.url.startsWith('node:')],
  ['V8 / native (program)', (f) => f.functionName === '(program)' || f.url === ''],
];

function areaOf(frame: ProfileNode['callFrame']): string {
  return AREAS.find(([, matches]) => matches(frame))?.[0] ?? 'other packages';
}

export function summarizeProfile(file: string, top = 12): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMs = new Map<number, number>();
  profile.samples.forEach((id, index) => {
    selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0) / 1000);
  });
  let idleMs = 0;
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, ms] of selfMs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    if (frame.functionName === '(idle)') {
      idleMs += ms;
      continue;
    }
    const area = areaOf(frame);
    areas.set(area, (areas.get(area) ?? 0) + ms);
    const where = frame.url
      ? ` ${frame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(src|bench)\//, '$1/')}:${frame.lineNumber + 1}`
      : '';
    const name = `${frame.functionName || '(anonymous)'}${where}`;
    functions.set(name, (functions.get(name) ?? 0) + ms);
  }
  const busyMs = [...areas.values()].reduce((sum, ms) => sum + ms, 0);
  const ranked = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([name, ms]) => ({ name, ms: Math.round(ms), percent: Math.round((ms / busyMs) * 1000) / 10 }));
  return {
    busyMs: Math.round(busyMs),
    idleMs: Math.round(idleMs),
    areas: ranked(areas).map(({ name, ms, percent }) => ({ area: name, ms, percent })),
    functions: ranked(functions).slice(0, top),
  };
}

if (import.meta.filename === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node bench/lib/cpu-profile.ts FILE.cpuprofile');
    process.exit(2);
  }
  const summary = summarizeProfile(file, 25);
  console.log(`busy ${summary.busyMs} ms, idle ${summary.idleMs} ms\n`);
  for (const area of summary.areas) console.log(`${String(area.percent).padStart(5)} %  ${area.area}`);
  console.log('');
  for (const fn of summary.functions) console.log(`${String(fn.percent).padStart(5)} %  ${fn.name}`);
}
