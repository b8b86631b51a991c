import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump, load } from 'js-yaml';
import { SHIPPED_RULES } from '../../src/demo/prometheus.ts';
import type { ActiveAlert, AlertState, PrometheusApi } from '../../src/local-cluster/prometheus-api.ts';
import { startPrometheus, type LocalPrometheus } from '../../src/local-cluster/prometheus.ts';
import { eventually } from './eventually.ts';

// A real Prometheus for the alert tests, with the shipped rules on a shorter clock: every duration in
// them — `for:`, range selectors, subqueries and offsets — divided by one factor, so that minutes
// become seconds. Thresholds stay as they are. The rules are read from alerts/greenlight.rules.yaml
// (which the chart's PrometheusRule ships verbatim: test/chart.test.ts) and scaled in memory, never
// copied.

/** One minute of the shipped rules is one second in the tests. */
export const TIME_SCALE = 60;

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

const DURATION = /^(?:\d+(?:ms|[smhdwy]))+$/;

/** A Prometheus duration (`90s`, `1h30m`, `1w`) in milliseconds. */
export function durationMs(text: string): number {
  if (!DURATION.test(text)) throw new Error(`not a Prometheus duration: ${text}`);
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)(ms|[smhdwy])/g))
    total += Number(amount) * (UNIT_MS[unit ?? ''] ?? 0);
  return total;
}

/** `duration / factor`, in whole milliseconds (at least 1). */
export function scaleDuration(text: string, factor: number): string {
  return `${Math.max(1, Math.round(durationMs(text) / factor))}ms`;
}

/** Every duration of a PromQL expression scaled: `[5m]`, `[30m:1m]`, `offset 1w`. */
export function scaleExpression(expression: string, factor: number): string {
  return expression
    .replace(
      /\[(\w+)(?::(\w*))?\]/g,
      (_whole, range: string, step: string | undefined) =>
        `[${scaleDuration(range, factor)}${step === undefined ? '' : `:${step ? scaleDuration(step, factor) : ''}`}]`,
    )
    .replace(/\boffset\s+(\w+)/g, (_whole, offset: string) => `offset ${scaleDuration(offset, factor)}`);
}

interface Rule {
  readonly alert?: string;
  readonly record?: string;
  readonly expr: string;
  readonly for?: string;
  readonly [field: string]: unknown;
}

interface RuleFile {
  readonly groups: readonly {
    readonly name: string;
    readonly rules: readonly Rule[];
    readonly [field: string]: unknown;
  }[];
}

/** A rule file with every duration divided by `factor`. */
export function scaleRules(yaml: string, factor: number): string {
  const file = load(yaml) as RuleFile;
  return dump({
    groups: file.groups.map((group) => ({
      ...group,
      rules: group.rules.map((rule) => ({
        ...rule,
        expr: scaleExpression(rule.expr, factor),
        ...(rule.for === undefined ? {} : { for: scaleDuration(rule.for, factor) }),
      })),
    })),
  });
}

/** The shipped alert rules' names. */
export async function shippedAlertNames(): Promise<string[]> {
  const file = load(await readFile(SHIPPED_RULES, 'utf8')) as RuleFile;
  return file.groups.flatMap((group) => group.rules.flatMap((rule) => (rule.alert ? [rule.alert] : [])));
}

/**
 * Prometheus scraping one controller every second as job `greenlight` (with the `namespace` label a
 * ServiceMonitor adds), evaluating the shipped rules every second on the test clock. Stopped, and its
 * files removed, by the returned `stop`.
 */
export async function startAlertingPrometheus(options: {
  readonly metricsAddress: string;
  readonly namespace: string;
}): Promise<LocalPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'greenlight-prometheus-'));
  const rules = join(dir, 'greenlight.rules.yaml');
  await writeFile(rules, scaleRules(await readFile(SHIPPED_RULES, 'utf8'), TIME_SCALE));
  const prometheus = await startPrometheus({
    dir,
    targets: [
      { job: 'greenlight', address: options.metricsAddress, labels: { namespace: options.namespace } },
    ],
    ruleFiles: [rules],
    scrapeInterval: '1s',
    evaluationInterval: '1s',
  });
  return {
    ...prometheus,
    stop: async () => {
      await prometheus.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until the alert is in `state` (pending or firing), and returns it. */
export function alertIn(
  api: PrometheusApi,
  name: string,
  state: AlertState,
  timeoutMs = 60_000,
): Promise<ActiveAlert> {
  return eventually(
    async () => {
      const alerts = await api.alerts();
      const alert = alerts.find((candidate) => candidate.name === name && candidate.state === state);
      if (!alert) {
        const now = alerts.map((active) => `${active.name} ${active.state}`).join(', ') || 'none';
        throw new Error(`${name} is not ${state}; active alerts: ${now}`);
      }
      return alert;
    },
    { timeoutMs, intervalMs: 250 },
  );
}
