import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { describe, expect, it, type TestContext } from 'vitest';
import type { ApprovalPolicy, ApprovalPolicySpec } from '../src/api/v1alpha1/approval-policy.ts';
import type { ApprovalRequestSpec } from '../src/api/v1alpha1/approval-request.ts';
import { waitForEvaluationAfterScrape } from '../src/demo/prometheus.ts';
import { WORKFLOWS } from '../src/demo/workflows.ts';
import { GreenlightApi } from '../src/k8s/greenlight-api.ts';
import { freeLoopbackPort } from '../src/local-cluster/ports.ts';
import type { LocalPrometheus } from '../src/local-cluster/prometheus.ts';
import { ActionId, buttonValue } from '../src/slack/messages.ts';
import { startSlackEmulator, type SlackEmulator } from './slack-emulator/index.ts';
import { REPOSITORY_ROOT } from './support/chart.ts';
import { cluster, createTestNamespace, kubeConfigAs } from './support/cluster.ts';
import { waitForCondition } from './support/controller.ts';
import { startControllerProcess, type ControllerProcess } from './support/controller-process.ts';
import { asPrometheusQuery, dashboardQueries } from './support/dashboard.ts';
import { eventually } from './support/eventually.ts';
import { greenlightAs } from './support/greenlight-objects.ts';
import {
  alertIn,
  durationMs,
  scaleExpression,
  scaleRules,
  shippedAlertNames,
  startAlertingPrometheus,
  TIME_SCALE,
} from './support/prometheus.ts';
import { grant, REQUESTER_RULES } from './support/rbac.ts';
import { httpClick, trackedInSlack } from './support/slack.ts';

// Greenlight's shipped alert rules in a real Prometheus (Debian's, from hack/prometheus.sh) that
// scrapes a real `greenlight controller` process, with Slack as the emulator: anomalies driven through
// the real system make the matching alert go pending and then fire, a normal day fires nothing, and
// every query of the Grafana dashboard returns data. The rules are the shipped file with every
// duration divided by TIME_SCALE (a minute becomes a second); thresholds are unchanged.

const ci = new GreenlightApi(kubeConfigAs('ci'));
const admin = new GreenlightApi(kubeConfigAs('admin'));

interface Live {
  readonly namespace: string;
  readonly slack: SlackEmulator;
  readonly controller: ControllerProcess;
  readonly prometheus: LocalPrometheus;
  readonly eventsUrl: string;
}

/**
 * A namespace with these policies, a Slack emulator, `greenlight controller` for the namespace (with
 * Slack and leader election, as the chart runs it), and Prometheus scraping it; returns once every
 * rule has been evaluated on a scrape of the controller. All of it stops when the test ends.
 */
async function live(
  { onTestFinished }: TestContext,
  prefix: string,
  policies: Readonly<Record<string, ApprovalPolicySpec>>,
): Promise<Live> {
  const namespace = await createTestNamespace(prefix);
  await grant(namespace, { user: cluster().usernames.ci }, REQUESTER_RULES);
  for (const [name, spec] of Object.entries(policies))
    await greenlightAs('admin').createPolicy(namespace, name, spec);
  const slack = await startSlackEmulator({ socketPingIntervalMs: 0 });
  const slackPort = await freeLoopbackPort();
  const eventsUrl = `http://127.0.0.1:${slackPort}/slack/events`;
  slack.setInteractivityUrl(eventsUrl);
  const controller = await startControllerProcess(
    namespace,
    [
      `--slack-bind-address=127.0.0.1:${slackPort}`,
      '--leader-elect',
      `--leader-election-namespace=${namespace}`,
    ],
    {
      SLACK_BOT_TOKEN: slack.workspace.botToken,
      SLACK_SIGNING_SECRET: slack.workspace.signingSecret,
      SLACK_API_URL: slack.apiUrl,
    },
  );
  const prometheus = await startAlertingPrometheus({ metricsAddress: controller.metricsAddress, namespace });
  onTestFinished(async () => {
    await prometheus.stop();
    controller.child.kill('SIGTERM');
    await controller.exited;
    await slack.close();
  });
  expect(await waitForEvaluationAfterScrape(prometheus.api, 30_000)).toBe(true);
  return { namespace, slack, controller, prometheus, eventsUrl };
}

const payment = (amount: number): ApprovalRequestSpec => ({
  action: 'payment',
  resource: `invoice/INV-${amount}`,
  requester: cluster().usernames.ci,
  parameters: { amount, currency: 'USD' },
});

/** Creates `count` requests at once, as a runaway pipeline would. */
async function burst(
  namespace: string,
  count: number,
  spec: (index: number) => ApprovalRequestSpec,
): Promise<void> {
  await Promise.all(
    Array.from({ length: count }, (_unused, index) =>
      ci.createRequest(namespace, `burst-${index}`, spec(index)),
    ),
  );
}

/** Creates a request every second, until `until` settles; resolves with what `until` resolved with. */
async function steadily<T>(namespace: string, spec: ApprovalRequestSpec, until: Promise<T>): Promise<T> {
  const stop = new AbortController();
  const pump = (async () => {
    for (let index = 0; !stop.signal.aborted; index++) {
      await ci.createRequest(namespace, `steady-${index}`, spec);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  })();
  try {
    return await until;
  } finally {
    stop.abort();
    await pump;
  }
}

/** Pending first, then firing, the same alert (active since the same moment): its `for` at work. */
async function pendingThenFiring(
  prometheus: LocalPrometheus,
  name: string,
  timeoutMs = 90_000,
): Promise<void> {
  const pending = await alertIn(prometheus.api, name, 'pending', timeoutMs);
  const firing = await alertIn(prometheus.api, name, 'firing', timeoutMs);
  expect(firing.activeAt).toBe(pending.activeAt);
}

/**
 * Every alert that was pending or firing since `start`, as `name state`: the ALERTS series Prometheus
 * wrote at each evaluation, read back over the whole time (not only the alerts active now).
 */
async function alertHistory(prometheus: LocalPrometheus, start: Date): Promise<string[]> {
  const since = Date.now() - start.getTime();
  const series = await prometheus.api.query(`last_over_time(ALERTS[${since}ms])`);
  return series.map((one) => `${one.metric['alertname'] ?? ''} ${one.metric['alertstate'] ?? ''}`).sort();
}

const escalateAll: ApprovalPolicySpec = {
  selector: { actions: ['payment'] },
  rules: [],
  defaultDecision: 'Escalate',
  escalation: { slack: { channel: '#payments-approvals' }, approvers: { slackUserGroups: ['S0APPROVERS'] } },
};

const approveAll: ApprovalPolicySpec = {
  selector: { actions: ['payment'] },
  rules: [{ name: 'anything', decision: 'Approve', message: 'approved by the test policy' }],
  notify: { slack: { channel: '#workflow-updates' } },
};

describe('the shipped rules on a shorter clock', () => {
  it('divide every duration and nothing else', async () => {
    expect(durationMs('1h30m')).toBe(5_400_000);
    expect(scaleExpression('sum(increase(x[1h] offset 1w)) > 3 * max_over_time(y[30m:1m])', 60)).toBe(
      'sum(increase(x[60000ms] offset 10080000ms)) > 3 * max_over_time(y[30000ms:1000ms])',
    );
    const shipped = await readFile(join(REPOSITORY_ROOT, 'alerts', 'greenlight.rules.yaml'), 'utf8');
    const scaled = load(scaleRules(shipped, TIME_SCALE)) as {
      groups: { rules: { alert: string; for?: string; expr: string }[] }[];
    };
    const rules = scaled.groups.flatMap((group) => group.rules);
    expect(rules.map((rule) => rule.alert)).toEqual(await shippedAlertNames());
    const surge = rules.find((rule) => rule.alert === 'GreenlightAutoApprovalSurge');
    expect(surge?.for).toBe('5000ms');
    expect(surge?.expr).toContain('[60000ms] offset 10080000ms');
    expect(rules.find((rule) => rule.alert === 'GreenlightOldestPendingRequestTooOld')?.expr).toContain(
      '> 86400',
    );
  });
});

describe('the shipped alerts in a live Prometheus', { timeout: 240_000 }, () => {
  it('a burst of auto-approvals: GreenlightAutoApprovalSurge goes pending, then fires', async (context) => {
    const { namespace, prometheus } = await live(context, 'alert-surge', { payments: approveAll });
    expect(await prometheus.api.alerts()).toEqual([]);
    await burst(namespace, 40, (index) => payment(100 + index));
    await pendingThenFiring(prometheus, 'GreenlightAutoApprovalSurge');
    const [firing] = (await prometheus.api.alerts()).filter((alert) => alert.state === 'firing');
    expect(firing?.labels).toMatchObject({ alertname: 'GreenlightAutoApprovalSurge', severity: 'critical' });
  });

  it('a run of denials: GreenlightDenialSurge goes pending, then fires', async (context) => {
    const { namespace, prometheus } = await live(context, 'alert-denials', {
      payments: {
        selector: { actions: ['payment'] },
        rules: [{ name: 'frozen', decision: 'Deny', message: 'payments are frozen' }],
      },
    });
    await burst(namespace, 40, (index) => payment(100 + index));
    await pendingThenFiring(prometheus, 'GreenlightDenialSurge');
    expect((await prometheus.api.alerts()).map((alert) => alert.name)).not.toContain(
      'GreenlightAutoApprovalSurge',
    );
  });

  it('Slack down while requests escalate: GreenlightSlackOutboxBacklog goes pending, fires, and clears once Slack is back', async (context) => {
    const { namespace, slack, prometheus } = await live(context, 'alert-backlog', {
      payments: escalateAll,
    });
    slack.setOutage(true);
    await burst(namespace, 60, (index) => payment(1000 + index));
    await pendingThenFiring(prometheus, 'GreenlightSlackOutboxBacklog');
    slack.setOutage(false);
    await eventually(
      async () => {
        expect((await prometheus.api.alerts()).map((alert) => alert.name)).not.toContain(
          'GreenlightSlackOutboxBacklog',
        );
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
  });

  it('a policy that errs on every request and announces where the bot is not: GreenlightPolicyEvaluationErrors and GreenlightSlackErrors go pending, then fire', async (context) => {
    const { namespace, prometheus } = await live(context, 'alert-broken-policy', {
      payments: {
        selector: { actions: ['payment'] },
        // Requests without a limit parameter make this rule fail ("no such key").
        rules: [
          { name: 'within-limit', when: 'params.amount < params.limit', decision: 'Approve', message: 'ok' },
        ],
        notify: { slack: { channel: '#private-ops' } },
      },
    });
    await steadily(
      namespace,
      payment(250),
      Promise.all([
        pendingThenFiring(prometheus, 'GreenlightPolicyEvaluationErrors'),
        pendingThenFiring(prometheus, 'GreenlightSlackErrors'),
      ]),
    );
    const errors = await prometheus.api.query(
      `sum by (policy) (greenlight_policy_evaluation_errors_total{job="greenlight",namespace="${namespace}"})`,
    );
    expect(errors).toEqual([{ metric: { policy: 'payments' }, value: expect.any(Number) as number }]);
  });

  it('forged clicks and clicks by people who may not answer: GreenlightSlackBadSignatures and GreenlightSlackUnauthorizedClicks fire', async (context) => {
    const { namespace, slack, prometheus, eventsUrl } = await live(context, 'alert-clicks', {
      payments: escalateAll,
    });
    await ci.createRequest(namespace, 'big', payment(5000));
    const { request, channel, ts } = await trackedInSlack(admin, namespace, 'big');
    const click = {
      actionId: ActionId.Approve,
      value: buttonValue(request),
      channel,
      messageTs: ts,
      requestUrl: eventsUrl,
    };
    for (let index = 0; index < 6; index++) {
      const forged = await httpClick(slack, { ...click, user: 'U0ALICE', signingSecret: 'not-the-secret' });
      expect(forged.status).toBe(401);
      expect(
        (await httpClick(slack, { ...click, user: index % 2 === 0 ? 'U0CAROL' : 'U0DAVE' })).status,
      ).toBe(200);
    }
    // Neither rule waits (no `for`): they fire at the first evaluation that sees the clicks.
    await alertIn(prometheus.api, 'GreenlightSlackBadSignatures', 'firing');
    await alertIn(prometheus.api, 'GreenlightSlackUnauthorizedClicks', 'firing');
    expect((await admin.getRequest(namespace, 'big')).status?.phase).toBe('Escalated');
  });

  it('the controller stops: GreenlightControllerAbsent goes pending, then fires', async (context) => {
    const { prometheus, controller } = await live(context, 'alert-absent', { payments: approveAll });
    const start = new Date();
    controller.child.kill('SIGTERM');
    expect(await controller.exited).toBe(0);
    await pendingThenFiring(prometheus, 'GreenlightControllerAbsent');
    // Prometheus's own record of it, as the normal day below reads it. (A stopping controller hands its
    // Lease back first: on this clock GreenlightNoLeader may show for the moment that takes.)
    const history = await alertHistory(prometheus, start);
    expect(history.filter((entry) => entry.startsWith('GreenlightControllerAbsent '))).toEqual([
      'GreenlightControllerAbsent firing',
      'GreenlightControllerAbsent pending',
    ]);
  });

  it('a normal day fires nothing, and every dashboard query returns data after the demo’s workflows', async (context) => {
    const examples = await Promise.all(
      ['deployments/policy.yaml', 'payments/policy.yaml'].map(
        async (file) =>
          load(await readFile(join(REPOSITORY_ROOT, 'examples', file), 'utf8')) as ApprovalPolicy,
      ),
    );
    const { namespace, slack, prometheus, eventsUrl } = await live(
      context,
      'alert-normal',
      Object.fromEntries(examples.map((policy) => [policy.metadata.name ?? '', policy.spec])),
    );
    const start = new Date();

    // The seed article's workflows, alice answering the escalated payment in Slack.
    for (const workflow of WORKFLOWS) await ci.createRequest(namespace, workflow.name, workflow.spec);
    const [, , escalated] = WORKFLOWS;
    const { request, channel, ts } = await trackedInSlack(admin, namespace, escalated?.name ?? '');
    await httpClick(slack, {
      user: 'U0ALICE',
      actionId: ActionId.Approve,
      value: buttonValue(request),
      channel,
      messageTs: ts,
      requestUrl: eventsUrl,
    });
    await waitForCondition(admin, namespace, escalated?.name ?? '', 'Approved');
    // Then an ordinary stream: small payments approved, a few large ones left for people.
    for (let index = 0; index < 12; index++) {
      await ci.createRequest(
        namespace,
        `routine-${index}`,
        payment(index % 4 === 3 ? 2000 + index : 50 + index),
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    // Long enough for every rate window and for a `for` to have turned a wrong condition pending.
    const watchedMs = 20_000;
    await new Promise((resolve) => setTimeout(resolve, watchedMs));

    const scope = `namespace="${namespace}"`;
    const decisions = await prometheus.api.query(
      `sum by (outcome, decided_by) (greenlight_decisions_total{job="greenlight",${scope}}) > 0`,
    );
    expect(
      decisions
        .map((sample) => sample.metric)
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    ).toEqual([
      { decided_by: 'human', outcome: 'approved' },
      { decided_by: 'policy', outcome: 'approved' },
    ]);

    const queries = await dashboardQueries();
    const empty: string[] = [];
    for (const query of queries) {
      const result = await prometheus.api.query(
        asPrometheusQuery(query.expr, { rateInterval: '1m', namespace }),
      );
      if (result.length === 0) empty.push(`${query.panel} (${query.legend})`);
    }
    expect(empty, 'dashboard queries without data').toEqual([]);

    for (const rule of await prometheus.api.rules()) {
      expect({ rule: rule.name, health: rule.health, lastError: rule.lastError }).toEqual({
        rule: rule.name,
        health: 'ok',
        lastError: undefined,
      });
    }
    expect(await alertHistory(prometheus, start)).toEqual([]);
  });
});
