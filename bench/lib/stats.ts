import { arch, availableParallelism, cpus, loadavg, platform, release, totalmem, type } from 'node:os';

/** Nearest-rank percentile (fraction 0–1) of unsorted values; NaN when there are none. */
export function percentile(values: readonly number[], fraction: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))] ?? Number.NaN
  );
}

export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export function summarize(latenciesMs: readonly number[]): LatencySummary {
  const round = (value: number): number => Math.round(value * 10) / 10;
  return {
    count: latenciesMs.length,
    p50Ms: round(percentile(latenciesMs, 0.5)),
    p95Ms: round(percentile(latenciesMs, 0.95)),
    p99Ms: round(percentile(latenciesMs, 0.99)),
    maxMs: round(percentile(latenciesMs, 1)),
  };
}

export interface Machine {
  readonly os: string;
  readonly cpuModel: string;
  readonly cpuCount: number;
  readonly availableParallelism: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly v8: string;
}

export function machine(): Machine {
  const processors = cpus();
  return {
    os: `${type()} ${release()} (${platform()}/${arch()})`,
    cpuModel: processors[0]?.model.trim() ?? 'unknown',
    cpuCount: processors.length,
    availableParallelism: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    v8: process.versions.v8,
  };
}

export const oneMinuteLoad = (): number => Math.round((loadavg()[0] ?? 0) * 100) / 100;

export const MiB = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;

export const round = (value: number, digits = 1): number => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const twoDecimals = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

export const formatInteger = (value: number): string =>
  Number.isFinite(value) ? integer.format(value) : '–';
export const formatOne = (value: number): string => (Number.isFinite(value) ? oneDecimal.format(value) : '–');
export const formatTwo = (value: number): string =>
  Number.isFinite(value) ? twoDecimals.format(value) : '–';
export const formatRatio = (value: number): string =>
  Number.isFinite(value) ? `${twoDecimals.format(value)}×` : '–';

/** A Markdown table with the first column left-aligned and the others right-aligned. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  // At least 2 wide: a delimiter cell needs a hyphen besides the alignment colon.
  const widths = header.map((title, column) =>
    Math.max(2, title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    `| ${cells
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join(' | ')} |`;
  const rule = `| ${widths.map((width, column) => (column === 0 ? '-'.repeat(width) : `${'-'.repeat(width - 1)}:`)).join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}
