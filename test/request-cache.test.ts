import { afterAll, describe, expect, it } from 'vitest';
import {
  APPROVAL_REQUEST_PLURAL,
  UNDECIDED_FIELD_SELECTOR,
  type ApprovalRequest,
} from '../src/api/v1alpha1/approval-request.ts';
import { cachedRequest, undecidedRequestSource } from '../src/controllers/approval-request/cache.ts';
import { apiMessageOf } from '../src/k8s/api-errors.ts';
import { GreenlightApi } from '../src/k8s/greenlight-api.ts';
import { ResilientInformer } from '../src/k8s/informer.ts';
import { greenlightAs } from './support/greenlight-objects.ts';
import { createTestNamespace, kubeConfigAs } from './support/cluster.ts';
import { startController, waitForCondition, type RunningController } from './support/controller.ts';
import { eventually } from './support/eventually.ts';
import { grant, REQUESTER_RULES } from './support/rbac.ts';

// What the controller keeps of requests: against the real API server, only undecided ones are listed
// and watched (status.phase is a selectable field), and an API server that refuses the selector is
// still served, with decided requests cached as stubs.

const admin = new GreenlightApi(kubeConfigAs('admin'));
const ci = new GreenlightApi(kubeConfigAs('ci'));
const ciUser = 'system:serviceaccount:ci:deployer';
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** $amount < 500 is approved, ≥ 100,000 denied, anything else escalated to people. */
async function workspace(prefix: string): Promise<string> {
  const namespace = await createTestNamespace(prefix);
  await grant(namespace, { user: ciUser }, REQUESTER_RULES);
  await greenlightAs('admin').createPolicy(namespace, 'payments', {
    selector: { actions: ['payment'] },
    rules: [
      { name: 'over-limit', when: 'params.amount >= 100000', decision: 'Deny', message: 'over the limit' },
      { name: 'small', when: 'params.amount < 500', decision: 'Approve', message: 'small' },
    ],
    escalation: { approvers: { kubernetesGroups: ['approvers'] } },
  });
  return namespace;
}

async function pay(namespace: string, name: string, amount: number): Promise<void> {
  await ci.createRequest(namespace, name, {
    action: 'payment',
    requester: ciUser,
    parameters: { amount, currency: 'USD', memo: 'x'.repeat(200) },
  });
}

async function running(namespace: string): Promise<RunningController> {
  const controller = await startController(namespace);
  cleanups.push(() => controller.stop());
  return controller;
}

function cacheOf(namespace: string, source: ReturnType<typeof undecidedRequestSource>) {
  const informer = new ResilientInformer<ApprovalRequest>({
    name: APPROVAL_REQUEST_PLURAL,
    kubeConfig: kubeConfigAs('admin'),
    path: GreenlightApi.path(APPROVAL_REQUEST_PLURAL, namespace),
    ...source,
    transform: cachedRequest,
    onChange: () => undefined,
  });
  cleanups.push(() => informer.stop());
  return informer;
}

const names = (requests: readonly ApprovalRequest[]): string[] =>
  requests.map((request) => request.metadata.name ?? '').sort();

describe('the request cache', () => {
  it('holds undecided requests only; a request leaves it as soon as it is decided', async () => {
    const namespace = await workspace('cache-undecided');
    const first = await running(namespace);
    await pay(namespace, 'small', 100);
    await pay(namespace, 'huge', 250_000);
    await pay(namespace, 'medium', 5_000);
    await waitForCondition(admin, namespace, 'small', 'Approved');
    await waitForCondition(admin, namespace, 'huge', 'Denied');
    await waitForCondition(admin, namespace, 'medium', 'Escalated');
    await first.stop();

    // A controller started now reads the one undecided request, not the two decided ones.
    const restarted = await running(namespace);
    const synced = restarted.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(synced.find((entry) => entry['msg'] === 'Caches synced')).toMatchObject({ requests: 1 });

    // Its watch sees a new request, and sees it leave once decided.
    const cache = cacheOf(
      namespace,
      undecidedRequestSource(admin, namespace, () => {
        throw new Error('the API server refused the undecided selector');
      }),
    );
    await cache.start();
    expect(names(cache.list(namespace))).toEqual(['medium']);
    await pay(namespace, 'late', 200);
    await waitForCondition(admin, namespace, 'late', 'Approved');
    await eventually(() => {
      expect(names(cache.list(namespace))).toEqual(['medium']);
    });
  });

  it('lets people select requests by phase, action and requester, as the controller does', async () => {
    const namespace = await workspace('cache-selectors');
    await running(namespace);
    await pay(namespace, 'small', 100);
    await pay(namespace, 'medium', 5_000);
    await waitForCondition(admin, namespace, 'small', 'Approved');
    await waitForCondition(admin, namespace, 'medium', 'Escalated');
    const select = async (fieldSelector: string): Promise<string[]> => {
      const list = (await admin.listPage(APPROVAL_REQUEST_PLURAL, namespace, undefined, fieldSelector)) as {
        items: ApprovalRequest[];
      };
      return names(list.items);
    };
    expect(await select(UNDECIDED_FIELD_SELECTOR)).toEqual(['medium']);
    expect(await select('status.phase=Approved')).toEqual(['small']);
    expect(await select(`spec.action=payment,spec.requester=${ciUser}`)).toEqual(['medium', 'small']);
    expect(await select('spec.action=deploy')).toEqual([]);
  });

  it('falls back to every request, decided ones as stubs, when the API server refuses the selector', async () => {
    const namespace = await workspace('cache-fallback');
    await running(namespace);
    await pay(namespace, 'small', 100);
    await pay(namespace, 'medium', 5_000);
    await waitForCondition(admin, namespace, 'small', 'Approved');
    await waitForCondition(admin, namespace, 'medium', 'Escalated');

    // A field the CRD does not declare selectable: the real API server answers 400, as one without
    // .status.phase selectable (an older CRD, Kubernetes before 1.31) would.
    const refusals: string[] = [];
    const source = undecidedRequestSource(
      admin,
      namespace,
      (error) => refusals.push(apiMessageOf(error)),
      'spec.parameters!=x',
    );
    const cache = cacheOf(namespace, source);
    await cache.start();
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toContain('spec.parameters');
    expect(source.fieldSelector()).toBeUndefined();
    expect(names(cache.list(namespace))).toEqual(['medium', 'small']);

    const stub = cache.get('small', namespace);
    expect(stub?.status).toEqual({
      phase: 'Approved',
      decision: expect.objectContaining({
        outcome: 'Approved',
        decidedBy: 'policy:payments/small',
      }) as unknown,
    });
    expect(stub?.spec).toEqual({ action: 'payment', requester: ciUser });
    expect(stub?.metadata).not.toHaveProperty('managedFields');
    const undecided = cache.get('medium', namespace);
    expect(undecided?.spec.parameters).toMatchObject({ amount: 5000 });
    expect(undecided?.metadata).not.toHaveProperty('managedFields');

    // The watch runs without the selector too: a decision arrives as an update, kept as a stub.
    await pay(namespace, 'late', 200);
    await eventually(() => {
      expect(cache.get('late', namespace)?.status?.phase).toBe('Approved');
    });
    expect(cache.get('late', namespace)?.spec).toEqual({ action: 'payment', requester: ciUser });
  });
});
