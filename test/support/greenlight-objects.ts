import { CustomObjectsApi } from '@kubernetes/client-node';
import type { ApprovalIntake, ApprovalIntakeSpec } from '../../src/api/v1alpha1/approval-intake.ts';
import type { ApprovalPolicy, ApprovalPolicySpec } from '../../src/api/v1alpha1/approval-policy.ts';
import type {
  ApprovalRequest,
  ApprovalRequestSpec,
  ApprovalRequestStatus,
} from '../../src/api/v1alpha1/approval-request.ts';
import { API_VERSION, GROUP, VERSION } from '../../src/api/v1alpha1/schema.ts';
import type { Identity } from '../../src/local-cluster/identities.ts';
import { GreenlightApi } from '../../src/k8s/greenlight-api.ts';
import { kubeConfigAs } from './cluster.ts';

export type GreenlightClient = ReturnType<typeof greenlightAs>;

/** Typed helpers over the generic custom-objects client, as one identity. */
// eslint-disable-next-line @typescript-eslint/explicit-module-boundary-types -- the inferred shape is the documentation
export function greenlightAs(identity: Identity) {
  const api = kubeConfigAs(identity).makeApiClient(CustomObjectsApi);
  const requests = (namespace: string) => ({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: 'approvalrequests',
  });
  const policies = (namespace: string) => ({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: 'approvalpolicies',
  });
  const intakes = (namespace: string) => ({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: 'approvalintakes',
  });
  const collection = (namespace: string, kind: 'ApprovalRequest' | 'ApprovalPolicy' | 'ApprovalIntake') =>
    kind === 'ApprovalRequest'
      ? requests(namespace)
      : kind === 'ApprovalPolicy'
        ? policies(namespace)
        : intakes(namespace);
  return {
    /** Creates an object from a spec as written, valid or not (for admission tests). */
    createRaw: async (
      namespace: string,
      kind: 'ApprovalRequest' | 'ApprovalPolicy' | 'ApprovalIntake',
      name: string,
      spec: unknown,
      metadata: { labels?: Record<string, string>; annotations?: Record<string, string> } = {},
    ): Promise<unknown> =>
      (await api.createNamespacedCustomObject({
        ...collection(namespace, kind),
        body: { apiVersion: API_VERSION, kind, metadata: { name, ...metadata }, spec },
      })) as unknown,
    createIntake: async (
      namespace: string,
      name: string,
      spec: ApprovalIntakeSpec,
    ): Promise<ApprovalIntake> =>
      (await api.createNamespacedCustomObject({
        ...intakes(namespace),
        body: { apiVersion: API_VERSION, kind: 'ApprovalIntake', metadata: { name }, spec },
      })) as ApprovalIntake,
    getIntake: async (namespace: string, name: string): Promise<ApprovalIntake> =>
      (await api.getNamespacedCustomObject({ ...intakes(namespace), name })) as ApprovalIntake,
    createRequest: async (
      namespace: string,
      name: string,
      spec: ApprovalRequestSpec,
    ): Promise<ApprovalRequest> =>
      (await api.createNamespacedCustomObject({
        ...requests(namespace),
        body: { apiVersion: API_VERSION, kind: 'ApprovalRequest', metadata: { name }, spec },
      })) as ApprovalRequest,
    getRequest: async (namespace: string, name: string): Promise<ApprovalRequest> =>
      (await api.getNamespacedCustomObject({ ...requests(namespace), name })) as ApprovalRequest,
    replaceRequest: async (request: ApprovalRequest): Promise<ApprovalRequest> =>
      (await api.replaceNamespacedCustomObject({
        ...requests(request.metadata.namespace ?? ''),
        name: request.metadata.name ?? '',
        body: request,
      })) as ApprovalRequest,
    replaceRequestStatus: async (
      request: ApprovalRequest,
      status: ApprovalRequestStatus,
    ): Promise<ApprovalRequest> =>
      (await api.replaceNamespacedCustomObjectStatus({
        ...requests(request.metadata.namespace ?? ''),
        name: request.metadata.name ?? '',
        body: { ...request, status },
      })) as ApprovalRequest,
    getPolicy: async (namespace: string, name: string): Promise<ApprovalPolicy> =>
      (await api.getNamespacedCustomObject({ ...policies(namespace), name })) as ApprovalPolicy,
    replacePolicy: async (policy: ApprovalPolicy): Promise<ApprovalPolicy> =>
      (await api.replaceNamespacedCustomObject({
        ...policies(policy.metadata.namespace ?? ''),
        name: policy.metadata.name ?? '',
        body: policy,
      })) as ApprovalPolicy,
    createPolicy: async (
      namespace: string,
      name: string,
      spec: ApprovalPolicySpec,
    ): Promise<ApprovalPolicy> =>
      (await api.createNamespacedCustomObject({
        ...policies(namespace),
        body: { apiVersion: API_VERSION, kind: 'ApprovalPolicy', metadata: { name }, spec },
      })) as ApprovalPolicy,
  };
}

/** Links a Slack user to a Kubernetes user (a SlackIdentity, cluster-scoped), as a platform team would. */
export async function linkSlackUser(slackUser: string, kubernetesUser: string): Promise<void> {
  await new GreenlightApi(kubeConfigAs('admin')).linkSlackUser(slackUser, kubernetesUser);
}
