import { describe, expect, it } from 'vitest';
import { APPROVAL_REQUEST_PLURAL, type ApprovalRequest } from '../src/api/v1alpha1/approval-request.ts';
import { GreenlightApi } from '../src/k8s/greenlight-api.ts';
import { pagedList, ResilientInformer } from '../src/k8s/informer.ts';
import { cluster, createTestNamespace, kubeConfigAs } from './support/cluster.ts';
import { eventually } from './support/eventually.ts';

// A watch resumed from a version the API server no longer holds is refused with 410 Gone (after a
// long disconnect, or when a restarted API server rebuilt its watch cache). The informer must list
// again and go on watching. The first list here reports resourceVersion 1, as a resume after a long
// disconnect would present it; the real API server refuses it.

const admin = new GreenlightApi(kubeConfigAs('admin'));

describe('an informer resuming from a version the API server no longer holds', () => {
  it('is told 410 Gone, says so, lists again and keeps watching', async (context) => {
    const namespace = await createTestNamespace('informer-gone');
    const spec = { action: 'deploy', requester: cluster().usernames.admin };
    await admin.createRequest(namespace, 'before', spec);
    const said: { message: string; fields: Record<string, unknown> | undefined }[] = [];
    let lists = 0;
    const path = GreenlightApi.path(APPROVAL_REQUEST_PLURAL, namespace);
    const list = pagedList<ApprovalRequest>((token) =>
      admin.listPage(APPROVAL_REQUEST_PLURAL, namespace, token),
    );
    const informer = new ResilientInformer<ApprovalRequest>({
      name: APPROVAL_REQUEST_PLURAL,
      kubeConfig: kubeConfigAs('admin'),
      path,
      list: async () => {
        lists += 1;
        const listed = await list();
        return lists === 1 ? { ...listed, metadata: { resourceVersion: '1' } } : listed;
      },
      onChange: () => undefined,
      logger: {
        info: (message, fields) => said.push({ message, fields }),
        warn: (message, fields) => said.push({ message, fields }),
      },
    });
    context.onTestFinished(() => informer.stop());
    await informer.start();

    await admin.createRequest(namespace, 'after', spec);
    await eventually(() => {
      expect(informer.get('after', namespace)).toBeDefined();
    });
    expect(said).toContainEqual({
      message: 'Watch could not resume (410 Gone); listing again',
      fields: { informer: APPROVAL_REQUEST_PLURAL, resourceVersion: '1' },
    });
    expect(lists).toBe(2);
    expect(informer.get('before', namespace)).toBeDefined();
  });
});
