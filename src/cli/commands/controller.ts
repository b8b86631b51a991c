import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { ControllerManager } from '../../controllers/manager.ts';
import { UsageError } from '../../errors.ts';
import { apiMessageOf } from '../../k8s/api-errors.ts';
import { loadClusterConfig, type ClusterConfig } from '../../k8s/cluster-config.ts';
import { KubeHttp } from '../../k8s/kube-http.ts';
import {
  healthRoutes,
  metricsRoutes,
  startHttpServer,
  type RunningHttpServer,
} from '../../observability/http.ts';
import { createLogger, parseLogFormat, parseLogLevel, type Logger } from '../../observability/logger.ts';
import { GreenlightMetrics } from '../../observability/metrics.ts';
import { LeaderElector } from '../../runtime/leader-election.ts';
import { slackIdentityOptionsFromFlags, slackSettingsFromEnv } from '../../slack/settings.ts';
import { parseDuration } from '../../policy/duration.ts';

const help = `Usage: greenlight controller [flags]

Runs Greenlight's controllers: decides ApprovalRequests with ApprovalPolicies, counts people's
answers, expires what nobody decides. The container's command.

Flags:
  --metrics-bind-address ADDR        Prometheus /metrics (default :8080; 0 disables)
  --health-probe-bind-address ADDR   /healthz and /readyz (default :8081; 0 disables)
  --slack-bind-address ADDR          Slack clicks and events, POST /slack/events (default :3000)
  --leader-elect                     Lease-based leader election; standbys keep warm caches
  --leader-election-namespace NS     where the Lease lives (default: the pod's namespace, else default)
  --leader-election-id NAME          the Lease's name (default greenlight-controller)
  --leader-elect-lease-duration D    how long standbys wait after the leader's last renewal (default 15s)
  --leader-elect-renew-deadline D    how long a leader keeps leading without renewing (default 10s)
  --leader-elect-retry-period D      how often to renew or try to acquire (default 2s)
  --slack-username-claim email|none  how a Slack user without a SlackIdentity is related to a Kubernetes
                                     user: their confirmed email (when usernames are emails), or not at
                                     all (default none: only SlackIdentity objects link people)
  --slack-username-prefix P          put before the email, like the API server's --oidc-username-prefix
  --slack-allowed-teams IDS          other Slack workspaces (T…) or organisations (E…) whose members may
                                     answer, comma-separated (default: only the bot's own workspace)
  --slack-allow-guests               let Slack guest accounts answer (default: refused)
  --retain-decided D                 delete decided requests D after their decision (720h is 30
                                     days), in small paced batches (default: keep them all)
  --webhook-allow-link-local         send decision webhooks to link-local and cloud metadata addresses
                                     too (default: refused, so a policy cannot reach instance credentials)
  --namespace NS                     watch one namespace only (default: all)
  --concurrency N                    requests decided in parallel (default 16)
  --log-format json|text             (default json)
  --log-level error|warn|info|debug  (default info)
  --kubeconfig FILE                  (default: $KUBECONFIG, ~/.kube/config, or in-cluster)

Environment: KUBECONFIG, SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN, SLACK_API_URL.`;

const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

function podNamespace(): string {
  try {
    return readFileSync(SERVICE_ACCOUNT_NAMESPACE, 'utf8').trim() || 'default';
  } catch {
    return 'default';
  }
}

function parseFlags(args: readonly string[]) {
  const { values } = parseArgs({
    args: [...args],
    options: {
      'metrics-bind-address': { type: 'string', default: ':8080' },
      'health-probe-bind-address': { type: 'string', default: ':8081' },
      'slack-bind-address': { type: 'string', default: ':3000' },
      'leader-elect': { type: 'boolean', default: false },
      'leader-election-namespace': { type: 'string' },
      'leader-election-id': { type: 'string', default: 'greenlight-controller' },
      'leader-elect-lease-duration': { type: 'string', default: '15s' },
      'leader-elect-renew-deadline': { type: 'string', default: '10s' },
      'leader-elect-retry-period': { type: 'string', default: '2s' },
      'slack-username-claim': { type: 'string' },
      'slack-username-prefix': { type: 'string' },
      'slack-allowed-teams': { type: 'string' },
      'slack-allow-guests': { type: 'boolean', default: false },
      'retain-decided': { type: 'string' },
      'webhook-allow-link-local': { type: 'boolean', default: false },
      namespace: { type: 'string' },
      concurrency: { type: 'string', default: '16' },
      'log-format': { type: 'string', default: 'json' },
      'log-level': { type: 'string', default: 'info' },
      kubeconfig: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new UsageError(`--concurrency must be a positive integer, not "${values.concurrency}"`);
  }
  const duration = (
    flag: 'leader-elect-lease-duration' | 'leader-elect-renew-deadline' | 'leader-elect-retry-period',
  ): number => {
    const ms = parseDuration(values[flag]);
    if (ms === undefined)
      throw new UsageError(`--${flag} must be a duration such as 15s, not "${values[flag]}"`);
    return ms;
  };
  const leaseTiming = {
    leaseDurationMs: duration('leader-elect-lease-duration'),
    renewDeadlineMs: duration('leader-elect-renew-deadline'),
    retryPeriodMs: duration('leader-elect-retry-period'),
  };
  const retain = values['retain-decided'];
  const retainMs = retain === undefined ? undefined : parseDuration(retain);
  if (retain !== undefined && retainMs === undefined) {
    throw new UsageError(`--retain-decided must be a duration such as 720h, not "${retain}"`);
  }
  return {
    ...values,
    concurrency,
    leaseTiming,
    retainMs,
    slackIdentity: slackIdentityOptionsFromFlags(values),
  };
}

/** What every write asks before it leaves (writes to the API server ask both): set by leader election. */
interface Fence {
  allows: () => boolean;
  /** Milliseconds a write to the API server may still take to land; undefined for no bound. */
  windowMs: () => number | undefined;
}

export async function runController(args: readonly string[]): Promise<number> {
  const flags = parseFlags(args);
  if (flags.help) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  const logger = createLogger({
    format: parseLogFormat(flags['log-format']),
    level: parseLogLevel(flags['log-level']),
  });
  // Greenlight's own kubeconfig reading: the controller does not load client-node (docs/benchmarks.md, F12).
  const kubeConfig = loadClusterConfig({ kubeconfig: flags.kubeconfig });
  const identity = `${hostname()}_${randomBytes(4).toString('hex')}`;
  const metrics = new GreenlightMetrics();
  const fromEnv = slackSettingsFromEnv(process.env);
  const slack = fromEnv && { ...fromEnv, identity: flags.slackIdentity };
  if (!slack) {
    logger.info(
      'Slack is not configured (SLACK_BOT_TOKEN is empty): running without Slack announcements or escalations',
    );
  }
  // Every write, to the API server, Slack or a webhook, asks this first; leader election sets it.
  const fence: Fence = { allows: () => true, windowMs: () => undefined };
  const writeFence = (): boolean => fence.allows();
  KubeHttp.for(kubeConfig).setWriteFence(writeFence, () => fence.windowMs());
  // The leader-election identity in every call: an audit log names the replica behind each write.
  KubeHttp.for(kubeConfig).setUserAgent(`greenlight-controller (${identity})`);
  const manager = await ControllerManager.create({
    kubeConfig,
    writeFence,
    ...(flags.namespace ? { namespace: flags.namespace } : {}),
    logger,
    metrics,
    identity,
    concurrency: flags.concurrency,
    retention: flags.retainMs === undefined ? undefined : { retainMs: flags.retainMs },
    slack: slack && { settings: slack, bindAddress: flags['slack-bind-address'] },
    webhooks: { allowLinkLocal: flags['webhook-allow-link-local'] },
  });
  const servers = await startServers(flags, metrics, manager, logger);
  logger.info('Starting Greenlight controller', {
    identity,
    namespace: flags.namespace ?? '(all)',
    leaderElect: flags['leader-elect'],
  });

  const shutdown = new AbortController();
  const onSignal = (signal: string) => (): void => {
    logger.info('Shutting down: finishing in-flight work', { signal });
    shutdown.abort();
  };
  process.once('SIGTERM', onSignal('SIGTERM'));
  process.once('SIGINT', onSignal('SIGINT'));

  await manager.start();
  const exitCode = flags['leader-elect']
    ? await runAsCandidate({
        flags,
        kubeConfig: kubeConfig,
        identity,
        fence,
        manager,
        metrics,
        logger,
        shutdown: shutdown.signal,
      })
    : await runAlone(manager, shutdown.signal);
  await Promise.all(servers.map((server) => server.close()));
  // Idle keep-alive connections would hold the process.
  await KubeHttp.for(kubeConfig).close();
  logger.info('Stopped', { exitCode });
  return exitCode;
}

async function runAlone(manager: ControllerManager, shutdown: AbortSignal): Promise<number> {
  const running = manager.run();
  await new Promise<void>((resolve) => {
    shutdown.addEventListener(
      'abort',
      () => {
        resolve();
      },
      { once: true },
    );
  });
  await manager.stop();
  await running;
  return 0;
}

/**
 * Caches stay warm while standing by; only the lease holder decides. A leader that loses its lease
 * stops deciding at once and exits non-zero (Kubernetes restarts it as a standby), as
 * controller-runtime does; on SIGTERM it finishes in-flight work, then releases the lease so a
 * standby takes over without waiting for it to expire.
 */
async function runAsCandidate(options: {
  flags: ReturnType<typeof parseFlags>;
  kubeConfig: ClusterConfig;
  identity: string;
  manager: ControllerManager;
  metrics: GreenlightMetrics;
  logger: Logger;
  shutdown: AbortSignal;
  fence: Fence;
}): Promise<number> {
  const { flags, manager, metrics, logger, shutdown } = options;
  const name = flags['leader-election-id'];
  const state = { lost: false };
  const stopElection = new AbortController();
  const elector = new LeaderElector({
    kubeConfig: options.kubeConfig,
    namespace: flags['leader-election-namespace'] ?? podNamespace(),
    name,
    identity: options.identity,
    ...flags.leaseTiming,
    onStartedLeading: () => {
      logger.info('Became the leader: deciding requests', { lease: name });
      void manager.run();
    },
    onStoppedLeading: () => {
      if (shutdown.aborted) return;
      state.lost = true;
      logger.error('Lost the leader lease: stopping', { lease: name });
      stopElection.abort();
    },
    onNewLeader: (leader) => {
      logger.info('Leader is', { leader });
    },
    isLeaderGauge: (leading) => {
      metrics.setLeader(name, leading);
    },
    onError: (error) => {
      logger.warn('Leader election call failed; retrying', { error: apiMessageOf(error) });
    },
  });
  // No write leaves this process after its lease is lost (KubeHttp, Slack, webhooks), and none sent
  // to the API server can take effect after the lease could have changed hands.
  options.fence.allows = () => elector.writesAllowed();
  options.fence.windowMs = () => elector.writeWindowMs();
  shutdown.addEventListener(
    'abort',
    () => {
      stopElection.abort();
    },
    { once: true },
  );
  await elector.run(stopElection.signal);
  await manager.stop();
  if (elector.isLeader || !state.lost) await elector.release();
  return state.lost ? 1 : 0;
}

async function startServers(
  flags: ReturnType<typeof parseFlags>,
  metrics: GreenlightMetrics,
  manager: ControllerManager,
  logger: Logger,
): Promise<RunningHttpServer[]> {
  const onError = (error: unknown): void => {
    logger.error('HTTP server error', { error: apiMessageOf(error) });
  };
  const started = await Promise.all([
    startHttpServer({ address: flags['metrics-bind-address'], routes: metricsRoutes(metrics), onError }),
    startHttpServer({
      address: flags['health-probe-bind-address'],
      routes: healthRoutes({ readiness: { 'informer-sync': () => manager.synced() } }),
      onError,
    }),
  ]);
  return started.filter((server): server is RunningHttpServer => server !== undefined);
}
