import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { dump } from 'js-yaml';
import { PrometheusError } from '../errors.ts';
import { packagePath } from '../package-root.ts';
import { freeLoopbackPort } from './ports.ts';
import { PrometheusApi } from './prometheus-api.ts';
import { startProcess, waitUntilReady } from './process.ts';

/**
 * A real Prometheus server on loopback, scraping local targets with rule files: for `greenlight demo
 * --prometheus` and for the tests that watch Greenlight's alerts fire. The binary comes from Debian's
 * prometheus package, unpacked once into a cache by hack/prometheus.sh (or GREENLIGHT_PROMETHEUS).
 */

export interface ScrapeTarget {
  /** The job label; Greenlight's rules and dashboard select `job="greenlight"`. */
  readonly job: string;
  /** `host:port` serving `/metrics`. */
  readonly address: string;
  /** Extra target labels, such as the `namespace` a ServiceMonitor adds. */
  readonly labels?: Readonly<Record<string, string>>;
}

export interface PrometheusOptions {
  /** Where the configuration, the data and the log go. */
  readonly dir: string;
  readonly targets: readonly ScrapeTarget[];
  readonly ruleFiles: readonly string[];
  /** Prometheus durations; default 15s and 15s. */
  readonly scrapeInterval?: string;
  readonly evaluationInterval?: string;
  readonly startTimeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
}

export interface LocalPrometheus {
  /** `http://127.0.0.1:PORT/` */
  readonly url: string;
  readonly api: PrometheusApi;
  readonly logFile: string;
  stop(): Promise<void>;
}

/** prometheus.yml for the targets and rule files. */
export function prometheusConfig(options: PrometheusOptions): string {
  const jobs = [...new Set(options.targets.map((target) => target.job))];
  return dump({
    global: {
      scrape_interval: options.scrapeInterval ?? '15s',
      evaluation_interval: options.evaluationInterval ?? '15s',
    },
    rule_files: [...options.ruleFiles],
    scrape_configs: jobs.map((job) => ({
      job_name: job,
      // As the chart's ServiceMonitor: a metric's own `namespace` (a policy's) wins over the target's.
      honor_labels: true,
      static_configs: options.targets
        .filter((target) => target.job === job)
        .map((target) => ({ targets: [target.address], labels: { ...target.labels } })),
    })),
  });
}

/** The path of the prometheus binary: GREENLIGHT_PROMETHEUS, or Debian's, unpacked once by hack/prometheus.sh. */
export async function resolvePrometheus(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(
      'bash',
      [packagePath('hack', 'prometheus.sh'), 'prometheus'],
      {
        env,
      },
    );
    const path = /^prometheus=(.+)$/m.exec(stdout)?.[1];
    if (!path) throw new Error(`hack/prometheus.sh printed no path: ${stdout}`);
    return path;
  } catch (error) {
    const stderr = (error as { stderr?: unknown }).stderr;
    const detail = typeof stderr === 'string' ? stderr.trim().split('\n').slice(-5).join('\n') : '';
    throw new PrometheusError(
      `Could not find Prometheus: install Debian's prometheus package source (apt) or set GREENLIGHT_PROMETHEUS.\n${detail}`,
      { cause: error },
    );
  }
}

/** Starts Prometheus on a free loopback port and returns once it is ready to answer queries. */
export async function startPrometheus(options: PrometheusOptions): Promise<LocalPrometheus> {
  const binary = await resolvePrometheus(options.env);
  await mkdir(options.dir, { recursive: true });
  const configFile = join(options.dir, 'prometheus.yml');
  await writeFile(configFile, prometheusConfig(options));
  const port = await freeLoopbackPort();
  const url = `http://127.0.0.1:${port}/`;
  const logFile = join(options.dir, 'prometheus.log');
  // Debian's build reads its web UI from /usr/share/prometheus/web; hack/prometheus.sh keeps it next
  // to the binary. Consoles (Debian's defaults point at /etc/prometheus) are not needed.
  const assets = join(dirname(binary), 'web');
  const process = startProcess(
    'prometheus',
    binary,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(options.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.console.templates=${options.dir}`,
      `--web.console.libraries=${options.dir}`,
      ...(existsSync(join(assets, 'templates')) ? [`--web.local-assets=${assets}`] : []),
    ],
    { logFile },
  );
  try {
    await waitUntilReady(
      process,
      async () => (await fetch(`${url}-/ready`, { signal: AbortSignal.timeout(2_000) })).ok,
      options.startTimeoutMs ?? 30_000,
    );
  } catch (error) {
    await process.stop();
    throw new PrometheusError('Prometheus did not start', { cause: error });
  }
  return { url, api: new PrometheusApi(url), logFile, stop: () => process.stop() };
}
