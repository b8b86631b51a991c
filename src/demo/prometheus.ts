import { join } from 'node:path';
import { packagePath } from '../package-root.ts';
import type { PrometheusApi } from '../local-cluster/prometheus-api.ts';
import { startPrometheus, type LocalPrometheus } from '../local-cluster/prometheus.ts';

/** The alert rules Greenlight ships (the Helm chart's PrometheusRule holds the same). */
export const SHIPPED_RULES = packagePath('alerts', 'greenlight.rules.yaml');

/** The demo's Prometheus scrapes this often: short, so its graphs fill while you watch. */
const DEMO_SCRAPE_INTERVAL = '5s';

/**
 * `greenlight demo --prometheus`: a real Prometheus scraping the demo's controller as job
 * `greenlight`, with the shipped alert rules and windows, as a cluster's Prometheus would.
 */
export function startDemoPrometheus(dir: string, metricsAddress: string): Promise<LocalPrometheus> {
  return startPrometheus({
    dir: join(dir, 'prometheus'),
    targets: [{ job: 'greenlight', address: metricsAddress, labels: { namespace: 'greenlight-demo' } }],
    ruleFiles: [SHIPPED_RULES],
    scrapeInterval: DEMO_SCRAPE_INTERVAL,
    evaluationInterval: DEMO_SCRAPE_INTERVAL,
  });
}

/**
 * Whether every rule has been evaluated on a successful scrape of the controller: before that,
 * GreenlightControllerAbsent is pending simply because nothing was scraped yet.
 */
export async function evaluatedOnScrape(api: PrometheusApi): Promise<boolean> {
  const [targets, rules] = await Promise.all([api.targets(), api.rules()]);
  const controller = targets.find((target) => target.job === 'greenlight');
  if (controller?.health !== 'up') return false;
  const scrapedAt = Date.parse(controller.lastScrape);
  return rules.every((rule) => Date.parse(rule.lastEvaluation) > scrapedAt);
}

/** One line about what Prometheus sees: the controller's scrape, and the alerts pending or firing. */
export async function prometheusSummary(api: PrometheusApi, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!(await evaluatedOnScrape(api))) {
    if (Date.now() > deadline) return 'Prometheus has not scraped the controller yet';
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const names = (await api.alerts()).map((alert) => `${alert.name} (${alert.state})`);
  return `Prometheus scrapes the controller; alerts pending or firing: ${names.length > 0 ? names.join(', ') : 'none'}`;
}
