import { packagePath } from '../package-root.ts';
import {
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import { APPROVAL_POLICY_PLURAL } from '../api/v1alpha1/approval-policy.ts';
import { USER_ROLES, type UserRole } from '../api/v1alpha1/roles.ts';
import { GROUP, VERSION } from '../api/v1alpha1/schema.ts';
import { isConflict } from '../k8s/api-errors.ts';
import { GreenlightApi } from '../k8s/greenlight-api.ts';
import { CI_USERNAME, HUMANS } from '../local-cluster/identities.ts';
import { installAdmissionPolicies, installCrds, kubectl } from '../local-cluster/kubectl.ts';
import type { LocalCluster } from '../local-cluster/control-plane.ts';

export const EXAMPLES = `${packagePath('examples')}/`;

/** The namespaces of the sample workflows: the examples' policies live there. */
export const DEMO_NAMESPACES = { delivery: 'delivery', finance: 'finance', staging: 'staging' } as const;

async function ignoreExisting(create: Promise<unknown>): Promise<void> {
  try {
    await create;
  } catch (error) {
    if (!isConflict(error)) throw error;
  }
}

/** The ClusterRoles the chart installs for people and pipelines (USER_ROLES), as the chart names them. */
export async function installUserRoles(admin: KubeConfig): Promise<void> {
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  for (const role of Object.values(USER_ROLES)) {
    const rules = role.rules.map((rule) => ({
      apiGroups: [...rule.apiGroups],
      resources: [...rule.resources],
      verbs: [...rule.verbs],
    }));
    await ignoreExisting(rbac.createClusterRole({ body: { metadata: { name: role.name }, rules } }));
  }
}

/** A RoleBinding of one of USER_ROLES in a namespace, as `kubectl create rolebinding` makes it. */
async function bind(
  rbac: RbacAuthorizationV1Api,
  namespace: string,
  role: UserRole,
  subject: { kind: 'User' | 'Group'; name: string },
): Promise<void> {
  await ignoreExisting(
    rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: `${role.name}-${subject.name.replace(/[^a-z0-9-]+/g, '-')}` },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.name },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', ...subject }],
      },
    }),
  );
}

/** Links each person's Slack account to their Kubernetes user (SlackIdentity objects), as a platform team would. */
export async function linkSlackIdentities(admin: KubeConfig): Promise<void> {
  const api = new GreenlightApi(admin);
  for (const human of Object.values(HUMANS)) {
    await ignoreExisting(api.linkSlackUser(human.slackUser, human.name));
  }
}

/**
 * What a platform team does once: the CRDs and admission policies, the sample namespaces, the
 * chart's ClusterRoles for people and pipelines bound there (the CI pipeline asks, the approvers
 * group answers, carol's developers group may look), people's Slack identities, and the example
 * policies.
 */
export async function installDemo(cluster: LocalCluster, admin: KubeConfig): Promise<void> {
  const kubeconfig = cluster.kubeconfigs.admin;
  await installCrds(cluster.kubectl, kubeconfig);
  await installAdmissionPolicies(cluster.kubectl, kubeconfig);
  const core = admin.makeApiClient(CoreV1Api);
  for (const namespace of Object.values(DEMO_NAMESPACES)) {
    await ignoreExisting(core.createNamespace({ body: { metadata: { name: namespace } } }));
  }
  await installUserRoles(admin);
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  for (const namespace of [DEMO_NAMESPACES.delivery, DEMO_NAMESPACES.finance]) {
    await bind(rbac, namespace, USER_ROLES.requester, { kind: 'User', name: CI_USERNAME });
    await bind(rbac, namespace, USER_ROLES.approver, { kind: 'Group', name: 'approvers' });
    // carol may look, so that her `greenlight approve` is refused for what it is: she is no approver.
    await bind(rbac, namespace, USER_ROLES.viewer, { kind: 'Group', name: 'developers' });
  }
  await linkSlackIdentities(admin);
  for (const policy of ['deployments/policy.yaml', 'payments/policy.yaml', 'payments/intake.yaml']) {
    await kubectl(cluster.kubectl, kubeconfig, [
      'apply',
      '--server-side',
      '--field-manager=greenlight-demo',
      '-f',
      `${EXAMPLES}${policy}`,
    ]);
  }
}

/** The Secret the payments policy signs its decision webhooks with, in the finance namespace. */
export const AUTOMATION_SECRET = 'payments-automation';

/**
 * Points the payments policy's decision webhooks at the demo's automation server: the signing secret in
 * a Secret of the policy's namespace, and `notify.webhooks` on the policy.
 */
export async function connectAutomation(admin: KubeConfig, url: string, secret: string): Promise<void> {
  const namespace = DEMO_NAMESPACES.finance;
  const core = admin.makeApiClient(CoreV1Api);
  const body = { metadata: { name: AUTOMATION_SECRET }, stringData: { secret } };
  try {
    await core.createNamespacedSecret({ namespace, body });
  } catch (error) {
    if (!isConflict(error)) throw error;
    await core.replaceNamespacedSecret({ namespace, name: AUTOMATION_SECRET, body });
  }
  await admin.makeApiClient(CustomObjectsApi).patchNamespacedCustomObject(
    {
      group: GROUP,
      version: VERSION,
      namespace,
      plural: APPROVAL_POLICY_PLURAL,
      name: 'payments',
      body: {
        spec: { notify: { webhooks: [{ url, secretRef: { name: AUTOMATION_SECRET, key: 'secret' } }] } },
      },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}
