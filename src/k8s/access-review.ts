import { APPROVAL_POLICY_PLURAL } from '../api/v1alpha1/approval-policy.ts';
import { GROUP } from '../api/v1alpha1/schema.ts';
import { KubeHttp, type ClusterAccess } from './kube-http.ts';

export interface ApproveCheck {
  readonly user: string;
  readonly groups?: readonly string[];
  readonly namespace: string;
  readonly policy: string;
}

export interface AccessReviewer {
  /** Whether the user may `approve` the policy (verb approve on approvalpolicies/<name>, greenlight.dev). */
  mayApprove(check: ApproveCheck): Promise<boolean>;
}

const TTL_MS = 30_000;

const AUTHORIZATION = '/apis/authorization.k8s.io/v1';

interface Review {
  readonly status?: { readonly allowed?: boolean };
}

/** SubjectAccessReviews, remembered for 30 s so a burst of answers does not flood the API server. */
export class SubjectAccessReviewer implements AccessReviewer {
  readonly #http: KubeHttp;
  readonly #cache = new Map<string, { allowed: boolean; until: number }>();

  constructor(kubeConfig: ClusterAccess) {
    this.#http = KubeHttp.for(kubeConfig);
  }

  async mayApprove(check: ApproveCheck): Promise<boolean> {
    const key = JSON.stringify([check.user, check.groups ?? [], check.namespace, check.policy]);
    const cached = this.#cache.get(key);
    if (cached && cached.until > Date.now()) return cached.allowed;
    const review = await this.#http.json<Review>('POST', `${AUTHORIZATION}/subjectaccessreviews`, {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: check.user,
        ...(check.groups ? { groups: [...check.groups] } : {}),
        resourceAttributes: {
          group: GROUP,
          resource: APPROVAL_POLICY_PLURAL,
          verb: 'approve',
          namespace: check.namespace,
          name: check.policy,
        },
      },
    });
    const allowed = review.status?.allowed === true;
    this.#cache.set(key, { allowed, until: Date.now() + TTL_MS });
    return allowed;
  }
}

/** Whether the caller may `approve` the policy (a SelfSubjectAccessReview, as admission will check it). */
export async function callerMayApprove(
  kubeConfig: ClusterAccess,
  namespace: string,
  policy: string,
): Promise<boolean> {
  const review = await KubeHttp.for(kubeConfig).json<Review>(
    'POST',
    `${AUTHORIZATION}/selfsubjectaccessreviews`,
    {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: {
        resourceAttributes: {
          group: GROUP,
          resource: APPROVAL_POLICY_PLURAL,
          verb: 'approve',
          namespace,
          name: policy,
        },
      },
    },
  );
  return review.status?.allowed === true;
}
