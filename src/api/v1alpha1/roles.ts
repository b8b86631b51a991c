import { APPROVAL_POLICY_PLURAL } from './approval-policy.ts';
import { APPROVAL_REQUEST_PLURAL } from './approval-request.ts';
import { GROUP } from './schema.ts';

export interface PolicyRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
}

export interface UserRole {
  /** The ClusterRole's name as the chart names it with the release name `greenlight`. */
  readonly name: string;
  readonly rules: readonly PolicyRule[];
}

/**
 * What people and pipelines need, as ClusterRoles to bind per namespace with a RoleBinding. The
 * chart ships them (charts/greenlight/templates/rbac-users.yaml, checked against these by its test);
 * `greenlight demo` installs them too, so the commands the docs show work there.
 */
export const USER_ROLES = {
  /** People who answer requests: `approve` counts only for the policies RBAC allows it on. */
  approver: {
    name: 'greenlight-approver',
    rules: [
      { apiGroups: [GROUP], resources: [APPROVAL_POLICY_PLURAL], verbs: ['get', 'list', 'watch', 'approve'] },
      { apiGroups: [GROUP], resources: [APPROVAL_REQUEST_PLURAL], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [GROUP], resources: [`${APPROVAL_REQUEST_PLURAL}/status`], verbs: ['patch', 'update'] },
    ],
  },
  /** Pipelines that ask for approvals. */
  requester: {
    name: 'greenlight-requester',
    rules: [
      { apiGroups: [GROUP], resources: [APPROVAL_REQUEST_PLURAL], verbs: ['create', 'get', 'list', 'watch'] },
    ],
  },
  /** Read-only: `greenlight explain`, `kubectl get apr`. */
  viewer: {
    name: 'greenlight-viewer',
    rules: [
      {
        apiGroups: [GROUP],
        resources: [APPROVAL_REQUEST_PLURAL, APPROVAL_POLICY_PLURAL],
        verbs: ['get', 'list', 'watch'],
      },
    ],
  },
} as const satisfies Record<string, UserRole>;
