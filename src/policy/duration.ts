import { DURATION_PATTERN } from '../api/v1alpha1/schema.ts';

const unitMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
const fullPattern = new RegExp(DURATION_PATTERN);

/**
 * Every decision reads the same few durations (the request's timeout, each policy's escalation
 * timeout): they are parsed once. Cleared when full, so hand-written durations cannot grow it.
 */
const parsed = new Map<string, number | undefined>();
const MAX_REMEMBERED = 1_024;

/**
 * Milliseconds of a duration in the API's syntax (`90s`, `30m`, `24h`, `1h30m`, `500ms`), or
 * undefined when the text is not one. The API server validates the same pattern, so undefined
 * only happens with hand-made objects (offline tests).
 */
export function parseDuration(text: string): number | undefined {
  if (parsed.has(text)) return parsed.get(text);
  const ms = millisecondsOf(text);
  if (parsed.size >= MAX_REMEMBERED) parsed.clear();
  parsed.set(text, ms);
  return ms;
}

function millisecondsOf(text: string): number | undefined {
  if (!fullPattern.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/([0-9]+)(ms|s|m|h)/g)) {
    total += Number(amount) * unitMs[unit as keyof typeof unitMs];
  }
  return total;
}

/** `90000` → `1m30s`; for messages. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.max(0, Math.round(ms))}ms`;
  const seconds = Math.round(ms / 1_000);
  const parts: string[] = [];
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  if (hours) parts.push(`${hours}h`);
  if (minutes) parts.push(`${minutes}m`);
  if (rest || parts.length === 0) parts.push(`${rest}s`);
  return parts.join('');
}
