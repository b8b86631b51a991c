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
import { API_VERSION, type ObjectMeta } from '../api/v1alpha1/schema.ts';
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
import { KubeHttp, withQuery, type ClusterAccess } from './kube-http.ts';
import { collectionPath } from './resources.ts';

const LIST_PAGE_SIZE = 500;

type Plural = typeof APPROVAL_REQUEST_PLURAL | typeof APPROVAL_POLICY_PLURAL | typeof APPROVAL_INTAKE_PLURAL;

/**
 * Typed access to Greenlight's kinds, over the lean client (KubeHttp): the controller loads no
 * client-node (docs/benchmarks.md, F12). Objects are raw JSON, as the API server sends them.
 */
export class GreenlightApi {
  readonly #http: KubeHttp;

  constructor(kubeConfig: ClusterAccess) {
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
    return this.#http.json(
      'GET',
      withQuery(GreenlightApi.path(plural, namespace), {
        limit: LIST_PAGE_SIZE,
        // An empty token or selector is none.
        continue: continueToken === '' ? undefined : continueToken,
        fieldSelector: fieldSelector === '' ? undefined : fieldSelector,
      }),
    );
  }

  getRequest(namespace: string, name: string): Promise<ApprovalRequest> {
    return this.#http.json<ApprovalRequest>('GET', objectPath(APPROVAL_REQUEST_PLURAL, namespace, name));
  }

  getPolicy(namespace: string, name: string): Promise<ApprovalPolicy> {
    return this.#http.json<ApprovalPolicy>('GET', objectPath(APPROVAL_POLICY_PLURAL, namespace, name));
  }

  createRequest(
    namespace: string,
    name: string | undefined,
    spec: ApprovalRequestSpec,
    extra: Pick<ObjectMeta, 'labels' | 'annotations'> = {},
  ): Promise<ApprovalRequest> {
    const metadata = { ...(name ? { name } : { generateName: `${spec.action}-` }), ...extra };
    return this.#http.json<ApprovalRequest>('POST', GreenlightApi.path(APPROVAL_REQUEST_PLURAL, namespace), {
      apiVersion: API_VERSION,
      kind: APPROVAL_REQUEST_KIND,
      metadata,
      spec,
    });
  }

  /**
   * Replaces the status, carrying the resourceVersion it was computed from: if anyone wrote the
   * object since, the API server answers 409 Conflict and nothing is stored.
   */
  replaceRequestStatus(request: ApprovalRequest, status: ApprovalRequestStatus): Promise<ApprovalRequest> {
    return this.#replaceStatus(APPROVAL_REQUEST_PLURAL, APPROVAL_REQUEST_KIND, request, status);
  }

  replacePolicyStatus(policy: ApprovalPolicy, status: ApprovalPolicyStatus): Promise<ApprovalPolicy> {
    return this.#replaceStatus(APPROVAL_POLICY_PLURAL, APPROVAL_POLICY_KIND, policy, status);
  }

  replaceIntakeStatus(intake: ApprovalIntake, status: ApprovalIntakeStatus): Promise<ApprovalIntake> {
    return this.#replaceStatus(APPROVAL_INTAKE_PLURAL, APPROVAL_INTAKE_KIND, intake, status);
  }

  /** A namespaced object's status replaced, with the resourceVersion it was read at (409 when stale). */
  #replaceStatus<T>(
    plural: Plural,
    kind: string,
    object: { readonly metadata: ObjectMeta; readonly spec: unknown },
    status: unknown,
  ): Promise<T> {
    const path = `${objectPath(plural, object.metadata.namespace ?? '', object.metadata.name ?? '')}/status`;
    return this.#http.json<T>('PUT', path, {
      apiVersion: API_VERSION,
      kind,
      metadata: object.metadata,
      spec: object.spec,
      status,
    });
  }

  /**
   * Appends entries (a person's answer, one per policy it answers) to status.approvals with a JSON
   * patch that first tests the resourceVersion, so a concurrent change makes the patch fail instead
   * of losing anyone's answer.
   */
  addApprovals(request: ApprovalRequest, approvals: readonly Approval[]): Promise<ApprovalRequest> {
    const existing = request.status?.approvals;
    const patch = [
      { op: 'test', path: '/metadata/resourceVersion', value: request.metadata.resourceVersion },
      ...(existing
        ? approvals.map((value) => ({ op: 'add', path: '/status/approvals/-', value }))
        : [{ op: 'add', path: '/status/approvals', value: approvals }]),
    ];
    const path = `${objectPath(APPROVAL_REQUEST_PLURAL, request.metadata.namespace ?? '', request.metadata.name ?? '')}/status`;
    return this.#http.json<ApprovalRequest>('PATCH', path, patch, {
      contentType: 'application/json-patch+json',
    });
  }

  /**
   * Deletes a request only if it is still the object that was read (same uid and resourceVersion): a
   * request changed or replaced since stays. Returns false when it was already gone or had changed.
   */
  async deleteRequestAsRead(request: ApprovalRequest): Promise<boolean> {
    const path = objectPath(
      APPROVAL_REQUEST_PLURAL,
      request.metadata.namespace ?? '',
      request.metadata.name ?? '',
    );
    try {
      await this.#http.json('DELETE', path, {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        preconditions: {
          ...(request.metadata.uid ? { uid: request.metadata.uid } : {}),
          ...(request.metadata.resourceVersion ? { resourceVersion: request.metadata.resourceVersion } : {}),
        },
      });
      return true;
    } catch (error) {
      if (isNotFound(error) || isConflict(error)) return false;
      throw error;
    }
  }

  /** Links a Slack user to a Kubernetes user: creates their SlackIdentity. */
  linkSlackUser(slackUser: string, kubernetesUser: string): Promise<SlackIdentity> {
    return this.#http.json<SlackIdentity>('POST', `/apis/${API_VERSION}/${SLACK_IDENTITY_PLURAL}`, {
      apiVersion: API_VERSION,
      kind: SLACK_IDENTITY_KIND,
      metadata: { name: slackIdentityName(slackUser) },
      spec: { slackUser, kubernetesUser },
    });
  }

  /** The Kubernetes user a SlackIdentity links the Slack user to; undefined when none does. */
  async linkedKubernetesUser(slackUser: string): Promise<string | undefined> {
    try {
      const identity = await this.#http.json<SlackIdentity>(
        'GET',
        `/apis/${API_VERSION}/${SLACK_IDENTITY_PLURAL}/${encodeURIComponent(slackIdentityName(slackUser))}`,
      );
      // The CRD's own rules keep name and spec in step; checking again costs nothing.
      return identity.spec.slackUser === slackUser ? identity.spec.kubernetesUser : undefined;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }
}

function objectPath(plural: Plural, namespace: string, name: string): string {
  return `${GreenlightApi.path(plural, namespace)}/${encodeURIComponent(name)}`;
}
