import { register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { GreenlightMetrics, decidedByLabel, secondsBetween, slackMethodLabel } from './metrics.ts';

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

interface Exposition {
  readonly types: ReadonlyMap<string, string>;
  readonly helps: ReadonlySet<string>;
  readonly samples: readonly Sample[];
}

/** Reads the Prometheus text format (0.0.4) as a scraper does. */
function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n').filter((line) => line !== '')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    const help = /^# HELP (\S+) /.exec(line);
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (type?.[1] !== undefined && type[2] !== undefined) types.set(type[1], type[2]);
    else if (help?.[1] !== undefined) helps.add(help[1]);
    else if (sample?.[1] !== undefined && sample[3] !== undefined) {
      samples.push({ name: sample[1], labels: parseLabels(sample[2] ?? ''), value: Number(sample[3]) });
    } else throw new Error(`not an exposition line: ${line}`);
  }
  return { types, helps, samples };
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [, name, value] of text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
    if (name !== undefined && value !== undefined) labels[name] = value;
  }
  return labels;
}

async function scrape(metrics: GreenlightMetrics): Promise<Exposition> {
  return parseExposition((await metrics.metrics()).body);
}

function valueOf(
  exposition: Exposition,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const matches = exposition.samples.filter(
    (sample) =>
      sample.name === name &&
      Object.entries(labels).every(([label, value]) => sample.labels[label] === value),
  );
  if (matches.length > 1)
    throw new Error(`${name} ${JSON.stringify(labels)} matches ${matches.length} samples`);
  return matches[0]?.value;
}

const CONTRACT_METRICS = [
  ['greenlight_decisions_total', 'counter'],
  ['greenlight_decision_duration_seconds', 'histogram'],
  ['greenlight_requests', 'gauge'],
  ['greenlight_oldest_pending_request_age_seconds', 'gauge'],
  ['greenlight_policy_evaluation_errors_total', 'counter'],
  ['greenlight_slack_requests_total', 'counter'],
  ['greenlight_slack_outbox_depth', 'gauge'],
  ['greenlight_slack_interactions_total', 'counter'],
  ['greenlight_slack_intake_total', 'counter'],
  ['greenlight_webhook_deliveries_total', 'counter'],
  ['greenlight_webhook_outbox_depth', 'gauge'],
  // Not in the original contract: the retention of decided requests (--retain-decided).
  ['greenlight_retention_deleted_total', 'counter'],
  ['controller_runtime_reconcile_total', 'counter'],
  ['controller_runtime_reconcile_errors_total', 'counter'],
  ['controller_runtime_reconcile_time_seconds', 'histogram'],
  ['workqueue_depth', 'gauge'],
  ['workqueue_adds_total', 'counter'],
  ['workqueue_queue_duration_seconds', 'histogram'],
  ['workqueue_retries_total', 'counter'],
  ['leader_election_master_status', 'gauge'],
] as const;

describe('GreenlightMetrics exposition', () => {
  it.each(CONTRACT_METRICS)('exposes %s as a %s', async (name, type) => {
    const { types } = await scrape(new GreenlightMetrics({ processMetrics: false }));
    expect(types.get(name)).toBe(type);
  });

  it('exposes only the contract metrics when process metrics are off', async () => {
    const { types } = await scrape(new GreenlightMetrics({ processMetrics: false }));
    expect([...types.keys()].sort()).toEqual(CONTRACT_METRICS.map(([name]) => name).sort());
  });

  it('passes the promtool naming rules, process metrics included', async () => {
    const { types, helps } = await scrape(new GreenlightMetrics());
    expect(types.get('process_cpu_seconds_total')).toBe('counter');
    expect(types.get('nodejs_active_handles')).toBe('gauge');
    for (const [name, type] of types) {
      expect(helps, `${name} has HELP`).toContain(name);
      expect(name, 'snake_case').toMatch(/^[a-z][a-z0-9_]*$/);
      if (type === 'counter') expect(name, 'counters end in _total').toMatch(/_total$/);
      else expect(name, `a ${type} must not end in _total`).not.toMatch(/_total$/);
    }
  });

  it('serves the Prometheus text content type', async () => {
    const { contentType } = await new GreenlightMetrics({ processMetrics: false }).metrics();
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('keeps its metrics out of prom-client’s global registry, and apart from other instances', async () => {
    const first = new GreenlightMetrics({ processMetrics: false });
    const second = new GreenlightMetrics({ processMetrics: false });
    first.recordSlackInteraction('stale');
    expect(valueOf(await scrape(first), 'greenlight_slack_interactions_total', { result: 'stale' })).toBe(1);
    expect(valueOf(await scrape(second), 'greenlight_slack_interactions_total', { result: 'stale' })).toBe(0);
    expect(await globalRegistry.metrics()).not.toContain('greenlight_');
  });
});

describe('decisions', () => {
  it('counts a person’s decision as human, without the person in any label', async () => {
    const metrics = new GreenlightMetrics({ processMetrics: false });
    metrics.recordDecision({
      outcome: 'Approved',
      decidedBy: 'user:alice@example.com',
      createdAt: new Date('2025-01-01T10:00:00Z'),
      decidedAt: '2025-01-01T10:30:00Z',
    });
    const exposition = await scrape(metrics);
    expect(
      valueOf(exposition, 'greenlight_decisions_total', { outcome: 'approved', decided_by: 'human' }),
    ).toBe(1);
    expect(valueOf(exposition, 'greenlight_decision_duration_seconds_sum', { decided_by: 'human' })).toBe(
      1800,
    );
    expect(
      valueOf(exposition, 'greenlight_decision_duration_seconds_bucket', { decided_by: 'human', le: '900' }),
    ).toBe(0);
    expect(
      valueOf(exposition, 'greenlight_decision_duration_seconds_bucket', { decided_by: 'human', le: '1800' }),
    ).toBe(1);
    const labelValues = exposition.samples.flatMap((sample) => Object.values(sample.labels));
    expect(labelValues.filter((value) => value.includes('alice'))).toEqual([]);
  });

  it('starts every outcome × decided_by series at zero', async () => {
    const exposition = await scrape(new GreenlightMetrics({ processMetrics: false }));
    const series = exposition.samples.filter((sample) => sample.name === 'greenlight_decisions_total');
    expect(series).toHaveLength(12);
    expect(series.every((sample) => sample.value === 0)).toBe(true);
  });

  it('maps an expiry to outcome expired, decided_by timeout', async () => {
    const metrics = new GreenlightMetrics({ processMetrics: false });
    const at = new Date('2025-01-02T10:00:00Z');
    metrics.recordDecision({ outcome: 'Expired', decidedBy: 'timeout', createdAt: at, decidedAt: at });
    const exposition = await scrape(metrics);
    expect(
      valueOf(exposition, 'greenlight_decisions_total', { outcome: 'expired', decided_by: 'timeout' }),
    ).toBe(1);
    expect(
      valueOf(exposition, 'greenlight_decision_duration_seconds_bucket', {
        decided_by: 'timeout',
        le: '0.05',
      }),
    ).toBe(1);
  });

  it.each([
    ['policy:payments/small-amounts', 'policy'],
    ['slack:U024BE7LH', 'human'],
    ['user:alice', 'human'],
    ['user:system:serviceaccount:ci:deployer', 'human'],
    ['timeout', 'timeout'],
    ['controller', 'controller'],
    ['something-new', 'controller'],
  ])('decidedBy %j is counted as %s', (decidedBy, label) => {
    expect(decidedByLabel(decidedBy)).toBe(label);
  });

  it('measures seconds between timestamps, never negative, undefined for non-times', () => {
    expect(secondsBetween('2025-01-01T00:00:00Z', '2025-01-01T00:00:01.500Z')).toBe(1.5);
    expect(secondsBetween('2025-01-01T00:00:10Z', '2025-01-01T00:00:00Z')).toBe(0);
    expect(secondsBetween('yesterday', '2025-01-01T00:00:00Z')).toBeUndefined();
  });
});

describe('undecided requests', () => {
  it('reads the pending source at every scrape', async () => {
    let now = new Date('2025-01-01T12:00:00Z');
    let snapshot = {
      pending: 3,
      escalated: 1,
      oldestCreatedAt: new Date('2025-01-01T11:00:00Z') as Date | undefined,
    };
    const metrics = new GreenlightMetrics({ processMetrics: false, now: () => now });
    metrics.setPendingSource(() => snapshot);

    let exposition = await scrape(metrics);
    expect(valueOf(exposition, 'greenlight_requests', { phase: 'pending' })).toBe(3);
    expect(valueOf(exposition, 'greenlight_requests', { phase: 'escalated' })).toBe(1);
    expect(valueOf(exposition, 'greenlight_oldest_pending_request_age_seconds')).toBe(3600);

    now = new Date('2025-01-01T12:00:30Z');
    exposition = await scrape(metrics);
    expect(valueOf(exposition, 'greenlight_oldest_pending_request_age_seconds')).toBe(3630);

    snapshot = { pending: 0, escalated: 0, oldestCreatedAt: undefined };
    exposition = await scrape(metrics);
    expect(valueOf(exposition, 'greenlight_requests', { phase: 'pending' })).toBe(0);
    expect(valueOf(exposition, 'greenlight_oldest_pending_request_age_seconds')).toBe(0);
  });

  it('reports nothing pending before the controller registers a source', async () => {
    const exposition = await scrape(new GreenlightMetrics({ processMetrics: false }));
    expect(valueOf(exposition, 'greenlight_requests', { phase: 'pending' })).toBe(0);
    expect(valueOf(exposition, 'greenlight_requests', { phase: 'escalated' })).toBe(0);
    expect(valueOf(exposition, 'greenlight_oldest_pending_request_age_seconds')).toBe(0);
  });
});

describe('controller-runtime and client-go metrics', () => {
  it('counts reconciles by result, errors apart, with controller-runtime’s buckets', async () => {
    const metrics = new GreenlightMetrics({ processMetrics: false });
    const reconcile = metrics.reconcileMetrics('approvalrequest');
    reconcile.observe('success', 0.02);
    reconcile.observe('error', 0.5);
    reconcile.observe('requeue_after', 0.01);
    const exposition = await scrape(metrics);
    const controller = 'approvalrequest';
    expect(valueOf(exposition, 'controller_runtime_reconcile_total', { controller, result: 'success' })).toBe(
      1,
    );
    expect(valueOf(exposition, 'controller_runtime_reconcile_total', { controller, result: 'error' })).toBe(
      1,
    );
    expect(valueOf(exposition, 'controller_runtime_reconcile_total', { controller, result: 'requeue' })).toBe(
      0,
    );
    expect(valueOf(exposition, 'controller_runtime_reconcile_errors_total', { controller })).toBe(1);
    expect(valueOf(exposition, 'controller_runtime_reconcile_time_seconds_count', { controller })).toBe(3);
    const buckets = exposition.samples
      .filter((sample) => sample.name === 'controller_runtime_reconcile_time_seconds_bucket')
      .map((sample) => sample.labels['le']);
    expect(buckets).toHaveLength(41);
    expect(buckets.slice(0, 3)).toEqual(['0.005', '0.01', '0.025']);
    expect(buckets.slice(-3)).toEqual(['50', '60', '+Inf']);
  });

  it('reports a work queue through the interface the queue calls', async () => {
    const metrics = new GreenlightMetrics({ processMetrics: false });
    const queue = metrics.workqueueMetrics('approvalrequest');
    queue.add();
    queue.add();
    queue.depth(2);
    queue.queueDuration(0.003);
    queue.retry();
    const exposition = await scrape(metrics);
    const name = 'approvalrequest';
    expect(valueOf(exposition, 'workqueue_adds_total', { name })).toBe(2);
    expect(valueOf(exposition, 'workqueue_depth', { name })).toBe(2);
    expect(valueOf(exposition, 'workqueue_retries_total', { name })).toBe(1);
    expect(valueOf(exposition, 'workqueue_queue_duration_seconds_bucket', { name, le: '0.001' })).toBe(0);
    expect(valueOf(exposition, 'workqueue_queue_duration_seconds_bucket', { name, le: '0.01' })).toBe(1);
    expect(valueOf(exposition, 'workqueue_queue_duration_seconds_bucket', { name, le: '10' })).toBe(1);
  });

  it('reports leadership per lease', async () => {
    const metrics = new GreenlightMetrics({ processMetrics: false });
    metrics.setLeader('greenlight-controller', true);
    expect(
      valueOf(await scrape(metrics), 'leader_election_master_status', { name: 'greenlight-controller' }),
    ).toBe(1);
    metrics.setLeader('greenlight-controller', false);
    expect(
      valueOf(await scrape(metrics), 'leader_election_master_status', { name: 'greenlight-controller' }),
    ).toBe(0);
  });
});

describe('policies and Slack', () => {
  it('counts evaluation errors by policy name', async () => {
    const metrics = new GreenlightMetrics({ processMetrics: false });
    metrics.recordPolicyEvaluationError('finance', 'payments');
    metrics.recordPolicyEvaluationError('finance', 'payments');
    metrics.recordPolicyEvaluationError('shop', 'payments');
    expect(
      valueOf(await scrape(metrics), 'greenlight_policy_evaluation_errors_total', {
        namespace: 'finance',
        policy: 'payments',
      }),
    ).toBe(2);
  });

  it('counts Slack calls by method and result, and the outbox depth', async () => {
    const metrics = new GreenlightMetrics({ processMetrics: false });
    metrics.recordSlackRequest('chat.postMessage', 'ok');
    metrics.recordSlackRequest('chat.update', 'rate_limited');
    metrics.setSlackOutboxDepth(4);
    const exposition = await scrape(metrics);
    expect(
      valueOf(exposition, 'greenlight_slack_requests_total', { method: 'chat.postMessage', result: 'ok' }),
    ).toBe(1);
    expect(
      valueOf(exposition, 'greenlight_slack_requests_total', {
        method: 'chat.update',
        result: 'rate_limited',
      }),
    ).toBe(1);
    expect(valueOf(exposition, 'greenlight_slack_outbox_depth')).toBe(4);
  });

  it.each([
    ['chat.postMessage', 'chat.postMessage'],
    ['usergroups.users.list', 'usergroups.users.list'],
    ['https://slack.com/api/chat.postMessage?token=xoxb-1', 'other'],
    ['chat.postMessage U024BE7LH', 'other'],
    ['', 'other'],
  ])('the Slack method %j is labelled %j', (method, label) => {
    expect(slackMethodLabel(method)).toBe(label);
  });

  it('starts a known policy’s error count at zero', async () => {
    const metrics = new GreenlightMetrics({ processMetrics: false });
    const labels = { namespace: 'finance', policy: 'payments' };
    metrics.trackPolicy('finance', 'payments');
    expect(valueOf(await scrape(metrics), 'greenlight_policy_evaluation_errors_total', labels)).toBe(0);
    metrics.recordPolicyEvaluationError('finance', 'payments');
    metrics.trackPolicy('finance', 'payments');
    expect(valueOf(await scrape(metrics), 'greenlight_policy_evaluation_errors_total', labels)).toBe(1);
  });

  it('starts every result of a Slack method at zero once the method is used', async () => {
    const metrics = new GreenlightMetrics({ processMetrics: false });
    metrics.recordSlackRequest('chat.postMessage', 'ok');
    metrics.recordSlackRequest('chat.postMessage', 'ok');
    const exposition = await scrape(metrics);
    const results = Object.fromEntries(
      exposition.samples
        .filter((sample) => sample.name === 'greenlight_slack_requests_total')
        .map((sample): [string, number] => [
          `${sample.labels['method'] ?? ''} ${sample.labels['result'] ?? ''}`,
          sample.value,
        ]),
    );
    expect(results).toEqual({
      'chat.postMessage ok': 2,
      'chat.postMessage error': 0,
      'chat.postMessage rate_limited': 0,
    });
  });

  it('starts every interaction result at zero', async () => {
    const metrics = new GreenlightMetrics({ processMetrics: false });
    metrics.recordSlackInteraction('bad_signature');
    const exposition = await scrape(metrics);
    const results = Object.fromEntries(
      exposition.samples
        .filter((sample) => sample.name === 'greenlight_slack_interactions_total')
        .map((sample): [string, number] => [sample.labels['result'] ?? '', sample.value]),
    );
    expect(results).toEqual({ accepted: 0, bad_signature: 1, unauthorized: 0, stale: 0, self_approval: 0 });
  });

  it('counts Slack intake and webhook deliveries by result, every result from zero, and the webhook outbox', async () => {
    const metrics = new GreenlightMetrics({ processMetrics: false });
    metrics.recordSlackIntake('created');
    metrics.recordSlackIntake('refused');
    metrics.recordSlackIntake('refused');
    metrics.recordWebhookDelivery('failed');
    metrics.setWebhookOutboxDepth(3);
    const exposition = await scrape(metrics);
    const byResult = (name: string): Record<string, number> =>
      Object.fromEntries(
        exposition.samples
          .filter((sample) => sample.name === name)
          .map((sample): [string, number] => [sample.labels['result'] ?? '', sample.value]),
      );
    expect(byResult('greenlight_slack_intake_total')).toEqual({
      created: 1,
      duplicate: 0,
      refused: 2,
      invalid: 0,
    });
    expect(byResult('greenlight_webhook_deliveries_total')).toEqual({ delivered: 0, failed: 1, refused: 0 });
    expect(valueOf(exposition, 'greenlight_webhook_outbox_depth')).toBe(3);
  });
});
