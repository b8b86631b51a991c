import { packagePath } from '../package-root.ts';
import {
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  type KubeConfig,
  type V1PolicyRule,
} from '@kubernetes/client-node';
import { APPROVAL_POLICY_PLURAL } from '../api/v1alpha1/approval-policy.ts';
import { GROUP, VERSION } from '../api/v1alpha1/schema.ts';
import { isConflict } from '../k8s/api-errors.ts';
import { GreenlightApi } from '../k8s/greenlight-api.ts';
import { CI_USERNAME, HUMANS } from '../local-cluster/identities.ts';
import { installAdmissionPolicies, installCrds, kubectl } from '../local-cluster/kubectl.ts';
import type { LocalCluster } from '../local-cluster/control-plane.ts';

export const EXAMPLES = `${packagePath('examples')}/`;

/** The namespaces of the sample workflows: the examples' policies live there. */
export const DEMO_NAMESPACES = { delivery: 'delivery', finance: 'finance', staging: 'staging' } as const;

const requesterRules: V1PolicyRule[] = [
  {
    apiGroups: ['greenlight.dev'],
    resources: ['approvalrequests'],
    verbs: ['create', 'get', 'list', 'watch'],
  },
];
const approverRules: V1PolicyRule[] = [
  { apiGroups: ['greenlight.dev'], resources: ['approvalrequests'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['greenlight.dev'], resources: ['approvalrequests/status'], verbs: ['patch', 'update'] },
  {
    apiGroups: ['greenlight.dev'],
    resources: ['approvalpolicies'],
    verbs: ['get', 'list', 'watch', 'approve'],
  },
];

async function ignoreExisting(create: Promise<unknown>): Promise<void> {
  try {
    await create;
  } catch (error) {
    if (!isConflict(error)) throw error;
  }
}

async function role(
  rbac: RbacAuthorizationV1Api,
  namespace: string,
  name: string,
  grant: { rules: V1PolicyRule[]; subject: { kind: 'User' | 'Group'; name: string } },
): Promise<void> {
  const { rules, subject } = grant;
  await ignoreExisting(rbac.createNamespacedRole({ namespace, body: { metadata: { name }, rules } }));
  await ignoreExisting(
    rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
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
 * What a platform team does once: the CRDs and admission policies, the sample namespaces, RBAC for
 * the CI pipeline (asks) and the approvers group (answers), people's Slack identities, and the
 * example policies.
 */
export async function installDemo(cluster: LocalCluster, admin: KubeConfig): Promise<void> {
  const kubeconfig = cluster.kubeconfigs.admin;
  await installCrds(cluster.kubectl, kubeconfig);
  await installAdmissionPolicies(cluster.kubectl, kubeconfig);
  const core = admin.makeApiClient(CoreV1Api);
  for (const namespace of Object.values(DEMO_NAMESPACES)) {
    await ignoreExisting(core.createNamespace({ body: { metadata: { name: namespace } } }));
  }
  for (const namespace of [DEMO_NAMESPACES.delivery, DEMO_NAMESPACES.finance]) {
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    await role(rbac, namespace, 'greenlight-requester', {
      rules: requesterRules,
      subject: { kind: 'User', name: CI_USERNAME },
    });
    await role(rbac, namespace, 'greenlight-approver', {
      rules: approverRules,
      subject: { kind: 'Group', name: 'approvers' },
    });
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
