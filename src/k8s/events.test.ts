import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventsNotRecordedError, KubernetesEventRecorder } from './events.ts';
import { KubeHttp } from './kube-http.ts';

describe('KubernetesEventRecorder', () => {
  const posted: { path: string; body: Record<string, unknown> }[] = [];
  let server: Server;
  let url = '';

  beforeAll(async () => {
    server = createServer((request, response) => {
      let text = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (text += chunk));
      request.on('end', () => {
        posted.push({ path: request.url ?? '', body: JSON.parse(text) as Record<string, unknown> });
        response.writeHead(201, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const recorder = (): KubernetesEventRecorder =>
    new KubernetesEventRecorder(
      { getCurrentCluster: () => ({ server: url }), applyToHTTPSOptions: () => Promise.resolve() },
      'replica-1',
      (error: unknown) => {
        throw error;
      },
    );

  it('writes the involved object by identity only, stamped when recorded, message cut to 1,024 characters', async () => {
    posted.length = 0;
    const events = recorder();
    const decided = {
      apiVersion: 'greenlight.dev/v1alpha1',
      kind: 'ApprovalRequest',
      metadata: { name: 'pay-1', namespace: 'ci', uid: 'u-1', resourceVersion: '42', labels: { a: 'b' } },
      spec: { action: 'payment', parameters: { amount: 120 } },
      status: { phase: 'Approved', conditions: [{ type: 'Decided', status: 'True' }] },
    };
    const before = new Date(Math.floor(Date.now() / 1000) * 1000);
    await events.record(decided, 'Normal', 'Approved', `Approved by policy: ${'x'.repeat(2000)}`);
    await events.flush();
    const after = new Date();

    expect(posted).toHaveLength(1);
    const [{ path, body }] = posted as [(typeof posted)[number]];
    expect(path).toBe('/api/v1/namespaces/ci/events');
    expect(body).toMatchObject({
      apiVersion: 'v1',
      kind: 'Event',
      involvedObject: {
        apiVersion: 'greenlight.dev/v1alpha1',
        kind: 'ApprovalRequest',
        name: 'pay-1',
        namespace: 'ci',
        uid: 'u-1',
        resourceVersion: '42',
      },
      type: 'Normal',
      reason: 'Approved',
      reportingInstance: 'replica-1',
      count: 1,
    });
    expect(Object.keys(body['involvedObject'] as object)).toHaveLength(6);
    expect((body['metadata'] as { name: string }).name).toMatch(/^pay-1\.[0-9a-f]{16}$/);
    expect((body['message'] as string).length).toBe(1024);
    expect((body['message'] as string).endsWith('…')).toBe(true);
    const stamped = new Date(body['firstTimestamp'] as string);
    expect(stamped.getTime()).toBeGreaterThanOrEqual(before.getTime());
    expect(stamped.getTime()).toBeLessThanOrEqual(after.getTime());
    expect(body['lastTimestamp']).toBe(body['firstTimestamp']);
  });

  it('writes every event queued beyond the four in flight, and flush waits for all of them', async () => {
    posted.length = 0;
    const events = recorder();
    for (let index = 0; index < 10; index++) {
      await events.record(
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${index}` } },
        'Warning',
        'Changed',
        `change ${index}`,
      );
    }
    await events.flush();
    // Four connections at a time: the server may see them in any order.
    expect(posted.map(({ body }) => String(body['message'])).sort()).toEqual(
      Array.from({ length: 10 }, (_, index) => `change ${index}`).sort(),
    );
    const first = posted.find(({ body }) => body['message'] === 'change 0');
    expect(first?.path).toBe('/api/v1/namespaces/default/events');
    expect(first?.body['involvedObject']).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      name: 'cm-0',
      namespace: 'default',
    });
  });

  it('reports the events a fenced-out process cannot write once, with how many, and writes none', async () => {
    posted.length = 0;
    const config = {
      getCurrentCluster: () => ({ server: url }),
      applyToHTTPSOptions: () => Promise.resolve(),
    };
    KubeHttp.for(config).setWriteFence(() => false);
    const errors: unknown[] = [];
    const events = new KubernetesEventRecorder(config, 'replica-1', (error) => errors.push(error));
    for (let index = 0; index < 25; index++) {
      await events.record(
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${index}` } },
        'Normal',
        'Approved',
        `decision ${index}`,
      );
    }
    await events.flush();
    expect(posted).toHaveLength(0);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(EventsNotRecordedError);
    expect(errors[0]).toMatchObject({
      count: 25,
      message: '25 event(s) not recorded: this process is no longer the leader',
    });
  });
});
