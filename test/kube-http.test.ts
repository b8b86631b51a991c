import { afterAll, describe, expect, it } from 'vitest';
import { APPROVAL_REQUEST_PLURAL, type ApprovalRequest } from '../src/api/v1alpha1/approval-request.ts';
import { apiMessageOf, isConflict, isNotFound, KubeApiError } from '../src/k8s/api-errors.ts';
import { GreenlightApi } from '../src/k8s/greenlight-api.ts';
import { KubeHttp } from '../src/k8s/kube-http.ts';
import { createTestNamespace, kubeConfigAs } from './support/cluster.ts';
import { eventually } from './support/eventually.ts';
import { grant, REQUESTER_RULES } from './support/rbac.ts';

// The lean client of the hot path (status writes, Events, watches) against the real API server: the
// admin's client certificate and the CI pipeline's token both authenticate; the API server's refusals
// arrive as the errors every caller already handles.

const ciUser = 'system:serviceaccount:ci:deployer';
const admin = KubeHttp.for(kubeConfigAs('admin'));
const ci = KubeHttp.for(kubeConfigAs('ci'));
afterAll(async () => {
  await Promise.all([admin.close(), ci.close()]);
});

async function namespaceWithRequester(prefix: string): Promise<string> {
  const namespace = await createTestNamespace(prefix);
  await grant(namespace, { user: ciUser }, REQUESTER_RULES);
  return namespace;
}

const requestBody = (name: string) => ({
  apiVersion: 'greenlight.dev/v1alpha1',
  kind: 'ApprovalRequest',
  metadata: { name },
  spec: { action: 'payment', requester: ciUser, parameters: { amount: 120, note: 'über — 120 €' } },
});

describe('KubeHttp', () => {
  it('creates with a token, writes a status with a client certificate, and refuses a stale write with 409', async () => {
    const namespace = await namespaceWithRequester('lean-write');
    const collection = GreenlightApi.path(APPROVAL_REQUEST_PLURAL, namespace);
    const created = await ci.json<ApprovalRequest>('POST', collection, requestBody('pay'));
    expect(created.spec.parameters).toEqual({ amount: 120, note: 'über — 120 €' });

    const status = `${collection}/pay/status`;
    const written = await admin.json<ApprovalRequest>('PUT', status, {
      ...created,
      status: { phase: 'Pending' },
    });
    expect(written.status?.phase).toBe('Pending');
    expect(written.metadata.resourceVersion).not.toBe(created.metadata.resourceVersion);

    // The resourceVersion it was computed from is stale now: nothing is stored.
    const stale = await admin
      .json('PUT', status, { ...created, status: { phase: 'Escalated' } })
      .catch((error: unknown) => error);
    expect(isConflict(stale)).toBe(true);
    expect(apiMessageOf(stale)).toContain('the object has been modified');
    const read = await admin.json<ApprovalRequest>('GET', `${collection}/pay`);
    expect(read.status?.phase).toBe('Pending');
  });

  it('reports a missing object as not found, with the API server’s message', async () => {
    const namespace = await namespaceWithRequester('lean-missing');
    const error = await admin
      .json('GET', `${GreenlightApi.path(APPROVAL_REQUEST_PLURAL, namespace)}/nobody`)
      .catch((caught: unknown) => caught);
    expect(isNotFound(error)).toBe(true);
    expect(apiMessageOf(error)).toContain('"nobody" not found');
  });

  it('reads a list answer far larger than 64 KiB whole', async () => {
    const namespace = await createTestNamespace('lean-large');
    const configMaps = `/api/v1/namespaces/${namespace}/configmaps`;
    const value = 'v'.repeat(600);
    // 300 ConfigMaps of ~600 bytes each: a list answer of some 200 KiB, over one kept-alive connection.
    for (let batch = 0; batch < 300; batch += 30) {
      await Promise.all(
        Array.from({ length: 30 }, (_, index) =>
          admin.json('POST', configMaps, {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: `cm-${batch + index}` },
            data: { value: `${value}-${batch + index}-ü€` },
          }),
        ),
      );
    }
    const list = await admin.json<{ items: { metadata: { name: string }; data: { value: string } }[] }>(
      'GET',
      configMaps,
    );
    const names = list.items.map((item) => item.metadata.name).filter((name) => name.startsWith('cm-'));
    expect(names).toHaveLength(300);
    expect(JSON.stringify(list).length).toBeGreaterThan(150 * 1024);
    expect(list.items.find((item) => item.metadata.name === 'cm-299')?.data.value).toBe(`${value}-299-ü€`);
  });

  it('carries the API server’s refusals as KubeApiError with its Status body and headers', async () => {
    const namespace = await createTestNamespace('lean-refusals');
    const configMaps = `/api/v1/namespaces/${namespace}/configmaps`;
    const missing = await admin.json('GET', `${configMaps}/nobody`).catch((caught: unknown) => caught);
    expect(missing).toBeInstanceOf(KubeApiError);
    expect(missing).toMatchObject({ code: 404, headers: { 'content-type': 'application/json' } });
    expect(JSON.parse((missing as KubeApiError).body)).toMatchObject({
      kind: 'Status',
      reason: 'NotFound',
      code: 404,
    });

    const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'once' } };
    await admin.send('POST', configMaps, configMap);
    const again = await admin.send('POST', configMaps, configMap).catch((caught: unknown) => caught);
    expect(isConflict(again)).toBe(true);
    expect(JSON.parse((again as KubeApiError).body)).toMatchObject({
      kind: 'Status',
      reason: 'AlreadyExists',
    });
  });

  it('watches: every change in order, and no done callback when the caller aborts', async () => {
    const namespace = await namespaceWithRequester('lean-watch');
    const collection = GreenlightApi.path(APPROVAL_REQUEST_PLURAL, namespace);
    const seen: string[] = [];
    let doneCalls = 0;
    const start = () =>
      admin.watch(
        collection,
        { allowWatchBookmarks: true },
        (type, object) => {
          const request = object as ApprovalRequest;
          if (type !== 'BOOKMARK')
            seen.push(`${type} ${request.metadata.name ?? ''} ${request.status?.phase ?? '-'}`);
        },
        () => {
          doneCalls += 1;
        },
      );
    // A fresh API server answers 429 ("storage is (re)initializing") until its watch cache is ready.
    let watch = await start();
    await eventually(async () => {
      if (doneCalls > 0) {
        doneCalls = 0;
        watch = await start();
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(doneCalls).toBe(0);
    });
    const created = await ci.json<ApprovalRequest>('POST', collection, requestBody('watched'));
    await admin.json('PUT', `${collection}/watched/status`, { ...created, status: { phase: 'Escalated' } });
    await admin.json('DELETE', `${collection}/watched`);
    await eventually(() => {
      expect(seen).toEqual(['ADDED watched -', 'MODIFIED watched Escalated', 'DELETED watched Escalated']);
    });
    watch.abort();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(doneCalls).toBe(0);
  });

  it('ends a watch the API server refuses with its error', async () => {
    const namespace = await namespaceWithRequester('lean-refused');
    const done = new Promise<unknown>((resolve) => {
      void ci.watch(
        // The CI pipeline may watch requests, not Secrets.
        `/api/v1/namespaces/${namespace}/secrets`,
        {},
        () => undefined,
        resolve,
      );
    });
    const error = await done;
    expect(apiMessageOf(error)).toContain('forbidden');
  });
});
