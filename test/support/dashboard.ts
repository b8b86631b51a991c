import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CHART_DIR } from './chart.ts';

// The Grafana dashboard the chart ships, and its queries as Prometheus would receive them from
// Grafana: checked by promtool (test/chart-alerts.test.ts) and run against a live Prometheus
// (test/prometheus-alerts.test.ts).

export const DASHBOARD = join(CHART_DIR, 'files', 'dashboards', 'greenlight.json');

interface Target {
  readonly expr: string;
  readonly legendFormat?: string;
  readonly datasource?: { readonly uid?: string };
}

export interface Panel {
  readonly type: string;
  readonly title: string;
  readonly datasource?: { readonly uid?: string };
  readonly targets?: readonly Target[];
  readonly panels?: readonly Panel[];
}

export interface DashboardQuery {
  readonly panel: string;
  readonly legend: string;
  readonly expr: string;
}

/** Every query of every panel (rows' panels included). */
export async function dashboardQueries(): Promise<DashboardQuery[]> {
  const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as { panels: Panel[] };
  const panels = dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
  return panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({
      panel: panel.title,
      legend: target.legendFormat ?? '',
      expr: target.expr,
    })),
  );
}

export interface GrafanaVariables {
  /** `$__rate_interval`; default 5m. */
  readonly rateInterval?: string;
  /** `$namespace`, a regular expression; default `.*` (all). */
  readonly namespace?: string;
}

/** A Grafana query as Prometheus sees it: Grafana's variables replaced by values. */
export function asPrometheusQuery(expression: string, variables: GrafanaVariables = {}): string {
  return expression
    .replaceAll('$__rate_interval', variables.rateInterval ?? '5m')
    .replaceAll('$__interval', '1m')
    .replaceAll('$__range', '1h')
    .replace(/\$\{?namespace\}?/g, variables.namespace ?? '.*');
}
