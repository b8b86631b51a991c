import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import {
  APPROVAL_POLICY_KIND,
  APPROVAL_POLICY_PLURAL,
  type ApprovalPolicy,
  type ApprovalPolicyStatus,
} from '../api/v1alpha1/approval-policy.ts';
import {
  APPROVAL_REQUEST_KIND,
  APPROVAL_REQUEST_PLURAL,
  type Approval,
  type ApprovalRequest,
  type ApprovalRequestSpec,
  type ApprovalRequestStatus,
} from '../api/v1alpha1/approval-request.ts';
import { API_VERSION, GROUP, VERSION, type ObjectMeta } from '../api/v1alpha1/schema.ts';
import {
  SLACK_IDENTITY_KIND,
  SLACK_IDENTITY_PLURAL,
  slackIdentityName,
  type SlackIdentity,
} from '../api/v1alpha1/slack-identity.ts';
import {
  APPROVAL_INTAKE_KIND,
  APPROVAL_INTAKE_PLURAL,
  type ApprovalIntake,
  type ApprovalIntakeStatus,
} from '../api/v1alpha1/approval-intake.ts';
import { isConflict, isNotFound } from './api-errors.ts';
import { KubeHttp } from './kube-http.ts';
import { collectionPath } from './resources.ts';

const LIST_PAGE_SIZE = 500;

type Plural = typeof APPROVAL_REQUEST_PLURAL | typeof APPROVAL_POLICY_PLURAL | typeof APPROVAL_INTAKE_PLURAL;

/** Typed access to Greenlight's two kinds, over client-node's generic custom-objects client. */
export class GreenlightApi {
  readonly #objects: CustomObjectsApi;
  readonly #http: KubeHttp;

  constructor(kubeConfig: KubeConfig) {
    this.#objects = kubeConfig.makeApiClient(CustomObjectsApi);
    this.#http = KubeHttp.for(kubeConfig);
  }

  static path(plural: Plural, namespace?: string): string {
    return collectionPath({ apiVersion: API_VERSION, kind: '', plural, namespaced: true }, namespace);
  }

  /** One page of a collection (all namespaces when `namespace` is undefined); raw JSON. */
  listPage(
    plural: Plural,
    namespace: string | undefined,
    continueToken: string | undefined,
    fieldSelector?: string,
  ): Promise<unknown> {
    const paging = {
      limit: LIST_PAGE_SIZE,
      ...(continueToken ? { _continue: continueToken } : {}),
      ...(fieldSelector ? { fieldSelector } : {}),
    };
    return namespace === undefined
      ? this.#objects.listClusterCustomObject({ group: GROUP, version: VERSION, plural, ...paging })
      : this.#objects.listNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace,
          plural,
          ...paging,
        });
  }

  async getRequest(namespace: string, name: string): Promise<ApprovalRequest> {
    return (await this.#objects.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: APPROVAL_REQUEST_PLURAL,
      name,
    })) as ApprovalRequest;
  }

  async getPolicy(namespace: string, name: string): Promise<ApprovalPolicy> {
    return (await this.#objects.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: APPROVAL_POLICY_PLURAL,
      name,
    })) as ApprovalPolicy;
  }

  async createRequest(
    namespace: string,
    name: string | undefined,
    spec: ApprovalRequestSpec,
    extra: Pick<ObjectMeta, 'labels' | 'annotations'> = {},
  ): Promise<ApprovalRequest> {
    const metadata = { ...(name ? { name } : { generateName: `${spec.action}-` }), ...extra };
    return (await this.#objects.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: APPROVAL_REQUEST_PLURAL,
      body: { apiVersion: API_VERSION, kind: APPROVAL_REQUEST_KIND, metadata, spec },
    })) as ApprovalRequest;
  }

  /**
   * Replaces the status, carrying the resourceVersion it was computed from: if anyone wrote the
   * object since, the API server answers 409 Conflict and nothing is stored.
   */
  async replaceRequestStatus(
    request: ApprovalRequest,
    status: ApprovalRequestStatus,
  ): Promise<ApprovalRequest> {
    // The decision's write, once per request: through the lean client (docs/benchmarks.md, F10).
    const path = `${GreenlightApi.path(APPROVAL_REQUEST_PLURAL, request.metadata.namespace ?? '')}/${encodeURIComponent(request.metadata.name ?? '')}/status`;
    return this.#http.json<ApprovalRequest>('PUT', path, {
      apiVersion: API_VERSION,
      kind: APPROVAL_REQUEST_KIND,
      metadata: request.metadata,
      spec: request.spec,
      status,
    });
  }

  async replacePolicyStatus(policy: ApprovalPolicy, status: ApprovalPolicyStatus): Promise<ApprovalPolicy> {
    return (await this.#replaceStatus(
      APPROVAL_POLICY_PLURAL,
      APPROVAL_POLICY_KIND,
      policy,
      status,
    )) as ApprovalPolicy;
  }

  async replaceIntakeStatus(intake: ApprovalIntake, status: ApprovalIntakeStatus): Promise<ApprovalIntake> {
    return (await this.#replaceStatus(
      APPROVAL_INTAKE_PLURAL,
      APPROVAL_INTAKE_KIND,
      intake,
      status,
    )) as ApprovalIntake;
  }

  /** A namespaced object's status replaced, with the resourceVersion it was read at (409 when stale). */
  #replaceStatus(
    plural: string,
    kind: string,
    object: { readonly metadata: ObjectMeta; readonly spec: unknown },
    status: unknown,
  ): Promise<unknown> {
    return this.#objects.replaceNamespacedCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      namespace: object.metadata.namespace ?? '',
      plural,
      name: object.metadata.name ?? '',
      body: { apiVersion: API_VERSION, kind, metadata: object.metadata, spec: object.spec, status },
    });
  }

  /**
   * Appends entries (a person's answer, one per policy it answers) to status.approvals with a JSON
   * patch that first tests the resourceVersion, so a concurrent change makes the patch fail instead
   * of losing anyone's answer.
   */
  async addApprovals(request: ApprovalRequest, approvals: readonly Approval[]): Promise<ApprovalRequest> {
    const existing = request.status?.approvals;
    const patch = [
      { op: 'test', path: '/metadata/resourceVersion', value: request.metadata.resourceVersion },
      ...(existing
        ? approvals.map((value) => ({ op: 'add', path: '/status/approvals/-', value }))
        : [{ op: 'add', path: '/status/approvals', value: approvals }]),
    ];
    return (await this.#objects.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        namespace: request.metadata.namespace ?? '',
        plural: APPROVAL_REQUEST_PLURAL,
        name: request.metadata.name ?? '',
        body: patch,
      },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    )) as ApprovalRequest;
  }

  /**
   * Deletes a request only if it is still the object that was read (same uid and resourceVersion): a
   * request changed or replaced since stays. Returns false when it was already gone or had changed.
   */
  async deleteRequestAsRead(request: ApprovalRequest): Promise<boolean> {
    try {
      await this.#objects.deleteNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: request.metadata.namespace ?? '',
        plural: APPROVAL_REQUEST_PLURAL,
        name: request.metadata.name ?? '',
        body: {
          preconditions: {
            ...(request.metadata.uid ? { uid: request.metadata.uid } : {}),
            ...(request.metadata.resourceVersion
              ? { resourceVersion: request.metadata.resourceVersion }
              : {}),
          },
        },
      });
      return true;
    } catch (error) {
      if (isNotFound(error) || isConflict(error)) return false;
      throw error;
    }
  }

  /** Links a Slack user to a Kubernetes user: creates their SlackIdentity. */
  async linkSlackUser(slackUser: string, kubernetesUser: string): Promise<SlackIdentity> {
    return (await this.#objects.createClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: SLACK_IDENTITY_PLURAL,
      body: {
        apiVersion: API_VERSION,
        kind: SLACK_IDENTITY_KIND,
        metadata: { name: slackIdentityName(slackUser) },
        spec: { slackUser, kubernetesUser },
      },
    })) as SlackIdentity;
  }

  /** The Kubernetes user a SlackIdentity links the Slack user to; undefined when none does. */
  async linkedKubernetesUser(slackUser: string): Promise<string | undefined> {
    try {
      const identity = (await this.#objects.getClusterCustomObject({
        group: GROUP,
        version: VERSION,
        plural: SLACK_IDENTITY_PLURAL,
        name: slackIdentityName(slackUser),
      })) as SlackIdentity;
      // The CRD's own rules keep name and spec in step; checking again costs nothing.
      return identity.spec.slackUser === slackUser ? identity.spec.kubernetesUser : undefined;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }
}
