import { randomBytes } from 'node:crypto';
import { AuthorizationV1Api, RbacAuthorizationV1Api, type V1PolicyRule } from '@kubernetes/client-node';
import { kubeConfigAs } from './cluster.ts';
import { eventually } from './eventually.ts';

export type Subject = { readonly user: string } | { readonly group: string };

/**
 * Grants `rules` in one namespace to a user or group with a new Role and RoleBinding, and returns
 * once the API server's authorizer honours it (its RBAC cache catches up asynchronously).
 */
export async function grant(namespace: string, subject: Subject, rules: V1PolicyRule[]): Promise<void> {
  const rbac = kubeConfigAs('admin').makeApiClient(RbacAuthorizationV1Api);
  const name = `grant-${randomBytes(3).toString('hex')}`;
  await rbac.createNamespacedRole({ namespace, body: { metadata: { name }, rules } });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [
        'user' in subject
          ? { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: subject.user }
          : { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: subject.group },
      ],
    },
  });
  const [rule] = rules;
  const [resource, subresource] = rule?.resources?.[0]?.split('/') ?? [];
  const authorization = kubeConfigAs('admin').makeApiClient(AuthorizationV1Api);
  await eventually(async () => {
    const review = await authorization.createSubjectAccessReview({
      body: {
        spec: {
          ...('user' in subject ? { user: subject.user } : { user: 'rbac-probe', groups: [subject.group] }),
          resourceAttributes: {
            namespace,
            group: rule?.apiGroups?.[0] ?? '',
            resource: resource ?? '',
            ...(subresource ? { subresource } : {}),
            verb: rule?.verbs[0] ?? 'get',
          },
        },
      },
    });
    if (!review.status?.allowed) throw new Error(`RBAC grant in ${namespace} not in effect yet`);
  });
}

/** What a pipeline needs to ask for approvals (the chart's requester role). */
export const REQUESTER_RULES: V1PolicyRule[] = [
  {
    apiGroups: ['greenlight.dev'],
    resources: ['approvalrequests'],
    verbs: ['create', 'get', 'list', 'watch'],
  },
];

/** What a person needs to answer requests (the chart's approver role), given policies they may approve. */
export const APPROVER_RULES: V1PolicyRule[] = [
  { apiGroups: ['greenlight.dev'], resources: ['approvalrequests'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['greenlight.dev'], resources: ['approvalrequests/status'], verbs: ['patch', 'update'] },
  { apiGroups: ['greenlight.dev'], resources: ['approvalpolicies'], verbs: ['get', 'list', 'approve'] },
];
