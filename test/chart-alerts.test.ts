import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { dump, load } from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { GreenlightMetrics } from '../src/observability/metrics.ts';
import { REPOSITORY_ROOT, promtoolBinary, run } from './support/chart.ts';
import { asPrometheusQuery, DASHBOARD, dashboardQueries, type Panel } from './support/dashboard.ts';

// Greenlight's alerts and Grafana dashboard, checked with Prometheus's own promtool (Debian's
// prometheus package, unpacked by hack/promtool.sh): every rule parses and passes its unit tests,
// with a firing and a silent case per alert; every alert has a runbook section; every query uses only
// metrics Greenlight exports.

const RULES_FILE = join(REPOSITORY_ROOT, 'alerts', 'greenlight.rules.yaml');
const RULES_TEST_FILES = ['greenlight.rules.test.yaml', 'anomalies.rules.test.yaml'].map((name) =>
  join(REPOSITORY_ROOT, 'alerts', name),
);
const RUNBOOK = join(REPOSITORY_ROOT, 'docs', 'alerts.md');

interface Rule {
  readonly alert?: string;
  readonly record?: string;
  readonly expr: string;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
}

interface RuleFile {
  readonly groups: readonly { readonly name: string; readonly rules: readonly Rule[] }[];
}

interface RuleTests {
  readonly tests: readonly {
    readonly alert_rule_test?: readonly {
      readonly alertname: string;
      readonly exp_alerts?: readonly unknown[];
    }[];
  }[];
}

const alerts = async (): Promise<Rule[]> => {
  const file = load(await readFile(RULES_FILE, 'utf8')) as RuleFile;
  return file.groups.flatMap((group) => group.rules.filter((rule) => rule.alert !== undefined));
};

/**
 * The metric names Greenlight exports: the `# TYPE` lines of a real scrape of its registry, with the
 * series names histograms and summaries add, and `up`, which Prometheus itself records per target.
 */
async function exportedSeriesNames(): Promise<Set<string>> {
  const { body } = await new GreenlightMetrics().metrics();
  const names = new Set(['up']);
  for (const [, name, type] of body.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (!name) continue;
    names.add(name);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix);
  }
  return names;
}

const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'and',
  'or',
  'unless',
  'inf',
  'nan',
  'atan2',
]);

/**
 * The metric names a PromQL expression reads: identifiers left after removing strings, label
 * matchers, ranges, grouping clauses and offsets, that are neither functions nor keywords.
 */
export function metricNamesIn(expression: string): string[] {
  const text = expression
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\boffset\s+-?\w+/g, ' ');
  const names: string[] = [];
  for (const match of text.matchAll(/[A-Za-z_:][\w:]*/g)) {
    const rest = text.slice(match.index + match[0].length).trimStart();
    if (rest.startsWith('(') || PROMQL_WORDS.has(match[0].toLowerCase())) continue;
    names.push(match[0]);
  }
  return names;
}

let promtool: string;
beforeAll(async () => {
  promtool = await promtoolBinary();
}, 300_000);

describe('the alert rules', () => {
  it('pass `promtool check rules`', async () => {
    const result = await run(promtool, ['check', 'rules', RULES_FILE]);
    expect(result.stdout + result.stderr).toContain(`SUCCESS: ${(await alerts()).length} rules found`);
    expect(result.code).toBe(0);
  });

  it.each(RULES_TEST_FILES.map((file) => [basename(file), file]))(
    'pass their unit tests (`promtool test rules alerts/%s`)',
    async (_name, file) => {
      const result = await run(promtool, ['test', 'rules', file]);
      expect(result.stdout + result.stderr).toContain('SUCCESS');
      expect(result.code, result.stdout + result.stderr).toBe(0);
    },
  );

  it('are each tested in a case where they fire and one where they stay silent', async () => {
    const files = await Promise.all(
      RULES_TEST_FILES.map(async (file) => load(await readFile(file, 'utf8')) as RuleTests),
    );
    const cases = files.flatMap((tests) => tests.tests.flatMap((test) => test.alert_rule_test ?? []));
    const names = (await alerts()).map((rule) => rule.alert);
    expect(names.length).toBeGreaterThanOrEqual(16);
    for (const name of names) {
      const mine = cases.filter((testCase) => testCase.alertname === name);
      expect(
        mine.some((testCase) => (testCase.exp_alerts ?? []).length > 0),
        `${name} fires`,
      ).toBe(true);
      expect(
        mine.some((testCase) => (testCase.exp_alerts ?? []).length === 0),
        `${name} stays silent`,
      ).toBe(true);
    }
  });

  it('each have a severity and a runbook section in docs/alerts.md', async () => {
    const runbook = await readFile(RUNBOOK, 'utf8');
    const sections = [...runbook.matchAll(/^## (\w+)$/gm)].map((match) => match[1]);
    const rules = await alerts();
    for (const rule of rules) {
      expect(['critical', 'warning']).toContain(rule.labels?.['severity']);
      expect(sections, `docs/alerts.md has a section for ${rule.alert ?? ''}`).toContain(rule.alert);
      expect(rule.annotations?.['runbook']).toBe(`docs/alerts.md#${(rule.alert ?? '').toLowerCase()}`);
      expect(rule.annotations?.['summary']).toBeTruthy();
      expect(rule.annotations?.['description']).toBeTruthy();
    }
    expect(sections.sort()).toEqual(rules.map((rule) => rule.alert).sort());
  });

  it('read only metrics Greenlight exports', async () => {
    const exported = await exportedSeriesNames();
    for (const rule of await alerts()) {
      const names = metricNamesIn(rule.expr);
      expect(names.length, rule.alert).toBeGreaterThan(0);
      for (const name of names) expect(exported, `${rule.alert ?? ''} reads ${name}`).toContain(name);
    }
  });
});

describe('the Grafana dashboard', () => {
  it('has queries Prometheus parses (each checked by promtool as a recording rule)', async () => {
    const queries = await dashboardQueries();
    expect(queries.length).toBeGreaterThan(20);
    const dir = await mkdtemp(join(tmpdir(), 'greenlight-dashboard-'));
    try {
      const file = join(dir, 'dashboard-queries.yaml');
      const rules = queries.map((query, index) => ({
        record: `dashboard:query_${index}`,
        expr: asPrometheusQuery(query.expr),
      }));
      await writeFile(file, dump({ groups: [{ name: 'dashboard', rules }] }));
      const result = await run(promtool, ['check', 'rules', file]);
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(result.stdout).toContain(`SUCCESS: ${queries.length} rules found`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('uses only metrics Greenlight exports, and shows every Greenlight metric', async () => {
    const exported = await exportedSeriesNames();
    const used = new Set<string>();
    for (const query of await dashboardQueries()) {
      for (const name of metricNamesIn(asPrometheusQuery(query.expr))) {
        expect(exported, `"${query.panel}" reads ${name}`).toContain(name);
        used.add(name.replace(/_(bucket|sum|count)$/, ''));
      }
    }
    const contract = [
      'greenlight_decisions_total',
      'greenlight_decision_duration_seconds',
      'greenlight_requests',
      'greenlight_oldest_pending_request_age_seconds',
      'greenlight_policy_evaluation_errors_total',
      'greenlight_slack_requests_total',
      'greenlight_slack_outbox_depth',
      'greenlight_slack_interactions_total',
      'greenlight_slack_intake_total',
      'greenlight_webhook_deliveries_total',
      'greenlight_webhook_outbox_depth',
      'controller_runtime_reconcile_total',
      'controller_runtime_reconcile_errors_total',
      'controller_runtime_reconcile_time_seconds',
      'workqueue_depth',
      'workqueue_adds_total',
      'workqueue_queue_duration_seconds',
      'workqueue_retries_total',
      'leader_election_master_status',
    ];
    for (const name of contract) expect(used, `the dashboard shows ${name}`).toContain(name);
  });

  it('asks for its Prometheus data source in every panel, as the Grafana sidecar expects', async () => {
    const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as {
      uid: string;
      panels: Panel[];
      templating: { list: { name: string; type: string }[] };
    };
    expect(dashboard.uid).toBe('greenlight');
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({ name: 'datasource', type: 'datasource' }),
    );
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
      expect(panel.datasource?.uid, panel.title).toBe('${datasource}');
      for (const target of panel.targets ?? [])
        expect(target.datasource?.uid, panel.title).toBe('${datasource}');
    }
  });
});

describe('metricNamesIn', () => {
  it('finds the metrics of an expression and nothing else', () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.99, sum by (le, x) (rate(a_bucket{job="greenlight",x=~"a|b"}[5m] offset 1w))) / on (x) group_left (y) b > 3 * clamp_min(sum(c) or vector(0), 10)',
      ),
    ).toEqual(['a_bucket', 'b', 'c']);
  });
});
