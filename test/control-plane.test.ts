import {
  AdmissionregistrationV1Api,
  ApiextensionsV1Api,
  AuthenticationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  VersionApi,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { refusal } from './support/api-error.ts';
import { cluster, createTestNamespace, kubeConfigAs } from './support/cluster.ts';
import { eventually } from './support/eventually.ts';
import { grant } from './support/rbac.ts';

// These tests prove the test control plane is a real kube-apiserver: real authentication, RBAC,
// CRDs and CEL admission, the things Greenlight's own tests rely on.

const widgetCrd: V1CustomResourceDefinition = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.smoke.greenlight.dev' },
  spec: {
    group: 'smoke.greenlight.dev',
    names: { kind: 'Widget', plural: 'widgets', singular: 'widget', listKind: 'WidgetList' },
    scope: 'Namespaced',
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                required: ['size'],
                properties: { size: { type: 'integer', minimum: 1, maximum: 10 } },
              },
            },
          },
        },
      },
    ],
  },
};

describe('the test control plane', () => {
  it('authenticates each identity as the user the API server will see', async () => {
    const whoami = async (identity: 'ci' | 'alice' | 'carol') => {
      const review = await kubeConfigAs(identity)
        .makeApiClient(AuthenticationV1Api)
        .createSelfSubjectReview({
          body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
        });
      return review.status?.userInfo;
    };
    const ci = await whoami('ci');
    expect(ci?.username).toBe('system:serviceaccount:ci:deployer');
    expect(ci?.groups).toContain('system:serviceaccounts:ci');
    expect((await whoami('alice'))?.groups).toContain('approvers');
    expect((await whoami('carol'))?.groups).not.toContain('approvers');
    expect(cluster().usernames.ci).toBe(ci?.username);
  });

  it('creates a namespace and reads it back', async () => {
    const namespace = await createTestNamespace('smoke-namespace');
    const read = await kubeConfigAs('admin').makeApiClient(CoreV1Api).readNamespace({ name: namespace });
    expect(read.metadata?.name).toBe(namespace);
    expect(read.status?.phase).toBe('Active');
  });

  it('serves a CRD and validates custom objects against its schema', async () => {
    const admin = kubeConfigAs('admin');
    const namespace = await createTestNamespace('smoke-crd');
    await admin.makeApiClient(ApiextensionsV1Api).patchCustomResourceDefinition(
      {
        name: widgetCrd.metadata?.name ?? '',
        body: widgetCrd,
        fieldManager: 'greenlight-tests',
        force: true,
      },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    );
    const objects = admin.makeApiClient(CustomObjectsApi);
    const target = { group: 'smoke.greenlight.dev', version: 'v1', namespace, plural: 'widgets' };
    const widget = { apiVersion: 'smoke.greenlight.dev/v1', kind: 'Widget', metadata: { name: 'w1' } };

    // The resource is served once the CRD is Established.
    await eventually(() =>
      objects.createNamespacedCustomObject({ ...target, body: { ...widget, spec: { size: 3 } } }),
    );
    const read = (await objects.getNamespacedCustomObject({ ...target, name: 'w1' })) as {
      spec: { size: number };
    };
    expect(read.spec.size).toBe(3);

    const tooBig = await refusal(
      objects.createNamespacedCustomObject({
        ...target,
        body: { ...widget, metadata: { name: 'w2' }, spec: { size: 11 } },
      }),
    );
    expect(tooBig.code).toBe(422);
    expect(tooBig.message).toContain('spec.size');
  });

  it('refuses the CI service account what RBAC does not grant, and allows it after a RoleBinding', async () => {
    const namespace = await createTestNamespace('smoke-rbac');
    const asCi = kubeConfigAs('ci').makeApiClient(CoreV1Api);
    const configMap = { metadata: { name: 'deploy-notes' }, data: { version: 'v2.4.1' } };

    const refused = await refusal(asCi.createNamespacedConfigMap({ namespace, body: configMap }));
    expect(refused.code).toBe(403);
    expect(refused.message).toContain('system:serviceaccount:ci:deployer');

    await grantConfigMaps(namespace, 'system:serviceaccount:ci:deployer');
    const created = await eventually(() => asCi.createNamespacedConfigMap({ namespace, body: configMap }));
    expect(created.metadata?.namespace).toBe(namespace);
    // The grant is namespaced: elsewhere the account is still refused.
    expect((await refusal(asCi.listNamespacedConfigMap({ namespace: 'default' }))).code).toBe(403);
  });

  it('enforces a ValidatingAdmissionPolicy on request.userInfo.username', async () => {
    const namespace = await createTestNamespace('smoke-vap');
    const ciUser = cluster().usernames.ci;
    await grantConfigMaps(namespace, ciUser);
    const admission = kubeConfigAs('admin').makeApiClient(AdmissionregistrationV1Api);
    const policyName = `owner-is-caller-${namespace}`;
    await admission.createValidatingAdmissionPolicy({
      body: {
        metadata: { name: policyName },
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: {
            resourceRules: [
              { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['configmaps'] },
            ],
          },
          validations: [
            {
              expression:
                "has(object.data) && 'owner' in object.data && object.data.owner == request.userInfo.username",
              messageExpression: "'data.owner must be the caller, ' + request.userInfo.username",
              reason: 'Forbidden',
            },
          ],
        },
      },
    });
    await admission.createValidatingAdmissionPolicyBinding({
      body: {
        metadata: { name: policyName },
        spec: {
          policyName,
          validationActions: ['Deny'],
          matchResources: {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
          },
        },
      },
    });
    const asCi = kubeConfigAs('ci').makeApiClient(CoreV1Api);
    const ownedBy = (name: string, owner: string) => ({ metadata: { name }, data: { owner } });

    // The policy takes effect once the API server's admission cache has loaded it.
    const impersonation = await eventually(async () => {
      const refused = await refusal(
        asCi.createNamespacedConfigMap({ namespace, body: ownedBy('spoof', 'alice') }),
      );
      expect(refused.code).toBe(403);
      return refused;
    });
    expect(impersonation.message).toContain(`data.owner must be the caller, ${ciUser}`);
    expect(impersonation.message).toContain(policyName);

    const honest = await asCi.createNamespacedConfigMap({ namespace, body: ownedBy('honest', ciUser) });
    expect(honest.data?.['owner']).toBe(ciUser);
  });

  it('serves and runs MutatingAdmissionPolicies from Kubernetes 1.36 on, without extra flags', async () => {
    const admin = kubeConfigAs('admin');
    const admission = admin.makeApiClient(AdmissionregistrationV1Api);
    const minor = Number.parseInt((await admin.makeApiClient(VersionApi).getCode()).minor, 10);
    const served = (await admission.getAPIResources()).resources.some(
      (resource) => resource.name === 'mutatingadmissionpolicies',
    );
    // GA in 1.36 (on by default); older releases (GREENLIGHT_KUBERNETES=1.35) do not serve v1.
    expect(served).toBe(minor >= 36);
    if (!served) return;

    const namespace = await createTestNamespace('smoke-map');
    const ciUser = cluster().usernames.ci;
    await grantConfigMaps(namespace, ciUser);
    const policyName = `owner-defaults-to-caller-${namespace}`;
    await admission.createMutatingAdmissionPolicy({
      body: {
        metadata: { name: policyName },
        spec: {
          failurePolicy: 'Fail',
          reinvocationPolicy: 'Never',
          matchConstraints: {
            resourceRules: [
              { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['configmaps'] },
            ],
          },
          matchConditions: [
            { name: 'owner-omitted', expression: "!has(object.data) || !('owner' in object.data)" },
          ],
          mutations: [
            {
              patchType: 'ApplyConfiguration',
              applyConfiguration: {
                expression: 'Object{data: {"owner": request.userInfo.username}}',
              },
            },
          ],
        },
      },
    });
    await admission.createMutatingAdmissionPolicyBinding({
      body: {
        metadata: { name: policyName },
        spec: {
          policyName,
          matchResources: {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
          },
        },
      },
    });
    const asCi = kubeConfigAs('ci').makeApiClient(CoreV1Api);

    // The policy takes effect once the API server's admission cache has loaded it.
    await eventually(async () => {
      const name = `defaulted-${String(Date.now())}`;
      const created = await asCi.createNamespacedConfigMap({ namespace, body: { metadata: { name } } });
      expect(created.data?.['owner']).toBe(ciUser);
    });
    const named = await asCi.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'named' }, data: { owner: 'someone-else' } },
    });
    expect(named.data?.['owner']).toBe('someone-else');
  });
});

async function grantConfigMaps(namespace: string, user: string): Promise<void> {
  await grant(namespace, { user }, [
    { apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'get', 'list'] },
  ]);
}
