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
 * Waits until every rule has been evaluated after a successful scrape of the controller: before
 * that, GreenlightControllerAbsent is pending simply because nothing was scraped yet. Resolves false
 * when that has not happened within `timeoutMs`.
 *
 * The scrape it waits past is the first successful one it sees, not the latest: with equal scrape
 * and evaluation intervals the latest scrape can always land just after the evaluation, and a check
 * against it would rarely see the two in order.
 */
export async function waitForEvaluationAfterScrape(api: PrometheusApi, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let firstScrapeAt: number | undefined;
  for (;;) {
    if (firstScrapeAt === undefined) {
      const controller = (await api.targets()).find((target) => target.job === 'greenlight');
      if (controller?.health === 'up') firstScrapeAt = Date.parse(controller.lastScrape);
    }
    if (firstScrapeAt !== undefined && evaluatedAfter(await api.rules(), firstScrapeAt)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Whether every rule's last evaluation came after `time` (epoch milliseconds). */
export function evaluatedAfter(rules: readonly { readonly lastEvaluation: string }[], time: number): boolean {
  return rules.every((rule) => Date.parse(rule.lastEvaluation) > time);
}

/** One line about what Prometheus sees: the controller's scrape, and the alerts pending or firing. */
export async function prometheusSummary(api: PrometheusApi, timeoutMs = 30_000): Promise<string> {
  if (!(await waitForEvaluationAfterScrape(api, timeoutMs)))
    return 'Prometheus has not scraped the controller yet';
  const names = (await api.alerts()).map((alert) => `${alert.name} (${alert.state})`);
  return `Prometheus scrapes the controller; alerts pending or firing: ${names.length > 0 ? names.join(', ') : 'none'}`;
}
