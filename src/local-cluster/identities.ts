/**
 * Who exists on the local control plane. Humans and the admin authenticate with static bearer tokens
 * (kube-apiserver --token-auth-file); the CI pipeline is a real ServiceAccount whose token the API
 * server signs through the TokenRequest API, exactly as in a cluster.
 */
export interface StaticUser {
  readonly name: string;
  readonly groups: readonly string[];
}

export const ADMIN: StaticUser = { name: 'greenlight-admin', groups: ['system:masters'] };

/**
 * Two approvers and one colleague who is not an approver (for "an outsider clicks" cases), each with
 * the Slack account the demo's Slack emulator gives them: the local control plane links them with
 * SlackIdentity objects, as a platform team would (dave, the emulator's fourth user, stays unlinked).
 */
export const HUMANS = {
  alice: { name: 'alice', groups: ['approvers'], slackUser: 'U0ALICE' },
  bob: { name: 'bob', groups: ['approvers'], slackUser: 'U0BOB' },
  carol: { name: 'carol', groups: ['developers'], slackUser: 'U0CAROL' },
} as const satisfies Record<string, StaticUser & { slackUser: string }>;

export const CI_SERVICE_ACCOUNT = { namespace: 'ci', name: 'deployer' } as const;
export const CI_USERNAME = `system:serviceaccount:${CI_SERVICE_ACCOUNT.namespace}:${CI_SERVICE_ACCOUNT.name}`;

export type Identity = 'admin' | 'ci' | keyof typeof HUMANS;
export const IDENTITIES: readonly Identity[] = [
  'admin',
  'ci',
  ...(Object.keys(HUMANS) as (keyof typeof HUMANS)[]),
];

/** One line of kube-apiserver's --token-auth-file: token,user,uid,"group1,group2". */
export function tokenFileLine(token: string, user: StaticUser): string {
  return `${token},${user.name},${user.name},"${user.groups.join(',')}"`;
}
