import type { ObjectCache } from '@kubernetes/client-node';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import type { ApprovalIntake } from '../src/api/v1alpha1/approval-intake.ts';
import type { ApprovalPolicy } from '../src/api/v1alpha1/approval-policy.ts';
import type { ApprovalRequest } from '../src/api/v1alpha1/approval-request.ts';
import { SubjectAccessReviewer } from '../src/k8s/access-review.ts';
import { KubernetesEventRecorder } from '../src/k8s/events.ts';
import { GreenlightApi } from '../src/k8s/greenlight-api.ts';
import { createLogger } from '../src/observability/logger.ts';
import { GreenlightMetrics } from '../src/observability/metrics.ts';
import { SlackIntegration } from '../src/slack/integration.ts';
import { startSlackEmulator, type SlackEmulator } from './slack-emulator/index.ts';
import { kubeConfigAs } from './support/cluster.ts';
import { eventually } from './support/eventually.ts';

// Slack across a change of leader, with the emulator behind the real @slack/web-api client: what the
// new leader finds in a channel keeps it from posting a predecessor's messages again, for as long as
// a catch-up may hand it those decisions.

const emulators: SlackEmulator[] = [];
afterAll(async () => {
  await Promise.all(emulators.map((emulator) => emulator.close()));
});

/** An informer's read side over a map, for objects this test hands the integration itself. */
class Objects<T extends { metadata: { name?: string; namespace?: string } }> implements ObjectCache<T> {
  readonly #objects = new Map<string, T>();

  put(object: T): void {
    this.#objects.set(`${object.metadata.namespace ?? ''}/${object.metadata.name ?? ''}`, object);
  }

  remove(object: T): void {
    this.#objects.delete(`${object.metadata.namespace ?? ''}/${object.metadata.name ?? ''}`);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#objects.get(`${namespace ?? ''}/${name}`);
  }

  list(namespace?: string): readonly T[] {
    return [...this.#objects.values()].filter(
      (object) => namespace === undefined || object.metadata.namespace === namespace,
    );
  }
}

const payments: ApprovalPolicy = {
  apiVersion: 'greenlight.dev/v1alpha1',
  kind: 'ApprovalPolicy',
  metadata: { name: 'payments', namespace: 'finance' },
  spec: {
    escalation: { slack: { channel: '#payments-approvals' }, approvers: { kubernetesGroups: ['approvers'] } },
    notify: { slack: { channel: '#workflow-updates' }, on: ['Denied'] },
  },
};

function pending(uid: string): ApprovalRequest {
  return {
    apiVersion: 'greenlight.dev/v1alpha1',
    kind: 'ApprovalRequest',
    metadata: { name: `pay-${uid}`, namespace: 'finance', uid, creationTimestamp: new Date().toISOString() },
    spec: { action: 'payment', resource: `invoice/${uid}`, requester: 'system:serviceaccount:ci:deployer' },
    status: { phase: 'Pending' },
  };
}

function denied(uid: string, by: 'policy' | 'person' = 'policy'): ApprovalRequest {
  const request = pending(uid);
  return {
    ...request,
    status: {
      phase: 'Denied',
      evaluations: [
        by === 'policy'
          ? { policy: 'payments', result: 'Deny', message: 'over the limit', policyGeneration: 1 }
          : { policy: 'payments', result: 'Escalate', message: 'default', policyGeneration: 1 },
      ],
      decision: {
        outcome: 'Denied',
        decidedBy: by === 'policy' ? 'policy:payments/over-limit' : 'slack:U0ALICE',
        reason: by === 'policy' ? 'over the limit' : 'denied by U0ALICE (alice)',
        decidedAt: new Date().toISOString(),
      },
    },
  };
}

function escalated(uid: string): ApprovalRequest {
  return {
    ...pending(uid),
    status: {
      phase: 'Escalated',
      evaluations: [{ policy: 'payments', result: 'Escalate', message: 'default', policyGeneration: 1 }],
    },
  };
}

const discard = new Writable({
  write(_chunk, _encoding, done) {
    done();
  },
});

function replica(slack: SlackEmulator, requests: Objects<ApprovalRequest>): SlackIntegration {
  const kubeConfig = kubeConfigAs('admin');
  const policies = new Objects<ApprovalPolicy>();
  policies.put(payments);
  const intakes = Object.assign(new Objects<ApprovalIntake>(), { hasSynced: () => true });
  return new SlackIntegration({
    settings: {
      botToken: slack.workspace.botToken,
      apiUrl: slack.apiUrl,
      signingSecret: undefined,
      appToken: undefined,
    },
    requests,
    policies,
    intakes,
    api: new GreenlightApi(kubeConfig),
    access: new SubjectAccessReviewer(kubeConfig),
    events: new KubernetesEventRecorder(kubeConfig, 'slack-integration-test', () => undefined),
    metrics: new GreenlightMetrics({ processMetrics: false }),
    logger: createLogger({ format: 'json', level: 'error', stream: discard }),
    bindAddress: '127.0.0.1:0',
    paceMs: 10,
  });
}

/** The messages in the channel that carry this intent key. */
function carrying(slack: SlackEmulator, key: string, channel = 'C0WORKFLOW') {
  return slack.messages(channel).filter((message) => {
    const keys = message.metadata?.event_payload['keys'];
    return typeof keys === 'string' && keys.split(' ').includes(key);
  });
}

const postedTimes = (slack: SlackEmulator, key: string): number => carrying(slack, key).length;
const hasButtons = (message: { readonly blocks?: readonly unknown[] }): boolean =>
  JSON.stringify(message.blocks ?? []).includes('greenlight_approve');

describe('Slack across a change of leader', () => {
  it('does not announce again what a predecessor announced, after the request left the cache and a sweep', async () => {
    const slack = await startSlackEmulator({ socketPingIntervalMs: 0 });
    emulators.push(slack);
    const announced = (uid: string): string => `${uid}/announce/Denied/#workflow-updates`;

    // The old leader decides r and announces it, then goes away.
    const old = replica(slack, new Objects());
    old.setLeading(true);
    old.requestChanged(denied('r'));
    await eventually(() => {
      expect(postedTimes(slack, announced('r'))).toBe(1);
      return Promise.resolve();
    });
    await old.stop();

    // The standby had r in its cache, undecided, and leads now: its first message (s) makes it read
    // the channel, where it finds r's announcement.
    const cache = new Objects<ApprovalRequest>();
    cache.put(pending('r'));
    const next = replica(slack, cache);
    next.requestChanged(pending('r'));
    next.setLeading(true);
    next.requestChanged(denied('s'));
    await eventually(() => {
      expect(postedTimes(slack, announced('s'))).toBe(1);
      return Promise.resolve();
    });

    // r was decided, so it leaves the cache; the sweep runs; then the catch-up hands over r's decision.
    cache.remove(pending('r'));
    next.sweep();
    next.requestChanged(denied('r'));
    // One channel, one queue: once t is posted, r would have been.
    next.requestChanged(denied('t'));
    await eventually(() => {
      expect(postedTimes(slack, announced('t'))).toBe(1);
      return Promise.resolve();
    });
    expect(postedTimes(slack, announced('r'))).toBe(1);
    await next.stop();
  });

  it('takes the buttons off a tracking message its predecessor posted but could not record', async () => {
    const slack = await startSlackEmulator({ socketPingIntervalMs: 0 });
    emulators.push(slack);
    const tracking = (): ReturnType<typeof carrying> => carrying(slack, 'e/tracking', 'C0PAYMENTS');

    // The old leader posts the tracking message with its buttons; recording it in the request's
    // status fails (the request is not in the API server here, as a fenced write would fail), and the
    // old leader goes away.
    const waiting = new Objects<ApprovalRequest>();
    waiting.put(escalated('e'));
    const old = replica(slack, waiting);
    old.setLeading(true);
    old.requestChanged(escalated('e'));
    await eventually(() => {
      expect(tracking().map(hasButtons)).toEqual([true]);
      return Promise.resolve();
    });
    await old.stop();

    // The new leader decides it (a person denied): nothing in its status says where the message is.
    const next = replica(slack, new Objects());
    next.setLeading(true);
    next.requestChanged(denied('e', 'person'));
    await eventually(() => {
      expect(tracking().map(hasButtons)).toEqual([false]);
      return Promise.resolve();
    });
    expect(tracking()[0]?.text).toMatch(/Denied/);
    await next.stop();
  });
});
