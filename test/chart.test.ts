import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMISSION_MANIFESTS } from '../src/api/v1alpha1/admission.ts';
import { CRDS } from '../src/api/v1alpha1/crds.ts';
import { USER_ROLES } from '../src/api/v1alpha1/roles.ts';
import { cluster, createTestNamespace } from './support/cluster.ts';
import {
  CHART_DIR,
  FULL_VALUES_FILE,
  MUTATING_ADMISSION_API,
  PLAIN_MANIFESTS_FILE,
  PLAIN_MUTATING_FILE,
  REPOSITORY_ROOT,
  find,
  helm,
  helmBinary,
  parseManifests,
  renderPlainManifests,
  renderPlainMutatingManifests,
  run,
  template,
  tryTemplate,
  withValuesFile,
  type KubernetesManifest,
} from './support/chart.ts';

// The Helm chart rendered, linted and checked against what the rest of the project says: the
// generated CRDs and admission policies, docs/operations.md's RBAC, the alert rules, the values
// schema. test/chart-install.test.ts applies it and runs the controller with its RBAC.

const NAMESPACE = 'greenlight-system';

interface PolicyRule {
  readonly apiGroups?: readonly string[];
  readonly resources?: readonly string[];
  readonly resourceNames?: readonly string[];
  readonly verbs: readonly string[];
}

interface Container {
  readonly args: string[];
  readonly env?: {
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string } };
  }[];
  readonly ports: { name: string; containerPort: number }[];
  readonly livenessProbe: { httpGet: { path: string; port: string } };
  readonly readinessProbe: { httpGet: { path: string; port: string } };
  readonly resources: { requests?: Record<string, string>; limits?: Record<string, string> };
  readonly securityContext: Record<string, unknown>;
}

interface PodSpec {
  readonly serviceAccountName: string;
  readonly securityContext: Record<string, unknown>;
  readonly containers: Container[];
}

function deployment(manifests: readonly KubernetesManifest[]): {
  replicas: number;
  pod: PodSpec;
  container: Container;
} {
  const spec = find(manifests, 'Deployment')['spec'] as {
    replicas: number;
    template: { spec: PodSpec };
  };
  const [container] = spec.template.spec.containers;
  if (!container) throw new Error('the Deployment has no container');
  return { replicas: spec.replicas, pod: spec.template.spec, container };
}

/**
 * Everything RBAC grants a ServiceAccount in the rendered chart, one `verb group/resource (names) in
 * scope` string per permission, where scope is `cluster` or a namespace.
 */
function grantsTo(
  manifests: readonly KubernetesManifest[],
  serviceAccount: string,
  namespace: string,
): string[] {
  const grants = new Set<string>();
  for (const binding of manifests.filter(
    (m) => m.kind === 'RoleBinding' || m.kind === 'ClusterRoleBinding',
  )) {
    const subjects = binding['subjects'] as { kind: string; name: string; namespace?: string }[];
    const bound = subjects.some(
      (s) => s.kind === 'ServiceAccount' && s.name === serviceAccount && s.namespace === namespace,
    );
    if (!bound) continue;
    const roleRef = binding['roleRef'] as { kind: string; name: string };
    const role = manifests.find(
      (m) =>
        m.kind === roleRef.kind &&
        m.metadata.name === roleRef.name &&
        (roleRef.kind === 'ClusterRole' || m.metadata.namespace === binding.metadata.namespace),
    );
    if (!role)
      throw new Error(
        `${binding.metadata.name} binds ${roleRef.kind} ${roleRef.name}, which is not rendered`,
      );
    const scope = binding.kind === 'ClusterRoleBinding' ? 'cluster' : (binding.metadata.namespace ?? '?');
    for (const grant of (role['rules'] as PolicyRule[]).flatMap(describeRule))
      grants.add(`${grant} in ${scope}`);
  }
  return [...grants].sort();
}

/** `verb group/resource (names)` for each permission of a rule. */
function describeRule(rule: PolicyRule): string[] {
  const names = rule.resourceNames ? ` (${rule.resourceNames.join(',')})` : '';
  return (rule.apiGroups ?? []).flatMap((group) =>
    (rule.resources ?? []).flatMap((resource) =>
      rule.verbs.map((verb) => `${verb} ${group === '' ? 'core' : group}/${resource}${names}`),
    ),
  );
}

/** The controller's permissions as docs/operations.md lists them (plus `patch` on status, see below). */
function controllerGrants(scope: string, leaseNamespace: string, leaseName: string): string[] {
  return [
    ...['get', 'list', 'watch'].flatMap((verb) => [
      `${verb} greenlight.dev/approvalrequests in ${scope}`,
      `${verb} greenlight.dev/approvalpolicies in ${scope}`,
      `${verb} greenlight.dev/approvalintakes in ${scope}`,
    ]),
    // Slack intake makes requests from messages (requester slack:…, which only `decide` may create).
    `create greenlight.dev/approvalrequests in ${scope}`,
    `update greenlight.dev/approvalrequests/status in ${scope}`,
    `update greenlight.dev/approvalintakes/status in ${scope}`,
    // Slack clicks are appended to status.approvals with a JSON patch (GreenlightApi.addApprovals).
    `patch greenlight.dev/approvalrequests/status in ${scope}`,
    `update greenlight.dev/approvalpolicies/status in ${scope}`,
    `decide greenlight.dev/approvalrequests in ${scope}`,
    `create core/events in ${scope}`,
    'create authorization.k8s.io/subjectaccessreviews in cluster',
    // The SlackIdentity that links a Slack user who clicks (SlackPeople.link).
    'get greenlight.dev/slackidentities in cluster',
    `create coordination.k8s.io/leases in ${leaseNamespace}`,
    `get coordination.k8s.io/leases (${leaseName}) in ${leaseNamespace}`,
    `update coordination.k8s.io/leases (${leaseName}) in ${leaseNamespace}`,
  ].sort();
}

/** A manifest without its labels and annotations (which the chart adds). */
const withoutLabels = (manifest: object): unknown => {
  const { metadata, ...rest } = manifest as { metadata: Record<string, unknown> };
  const identity = Object.fromEntries(
    Object.entries(metadata).filter(([field]) => field !== 'labels' && field !== 'annotations'),
  );
  return { ...rest, metadata: identity };
};

// helm is built from its Go module on first use (about a minute and a half), then cached.
beforeAll(async () => {
  await helmBinary();
}, 600_000);

describe('the Helm chart', () => {
  it('passes helm lint with its default values and with every feature on', async () => {
    for (const args of [[], ['-f', FULL_VALUES_FILE]]) {
      const result = await helm(['lint', '--strict', CHART_DIR, '--namespace', NAMESPACE, ...args]);
      expect(result.stderr + result.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
      expect(result.code).toBe(0);
    }
  });

  it('renders a restricted, highly available controller with its default values', async () => {
    const manifests = parseManifests(await template());
    const { replicas, pod, container } = deployment(manifests);
    expect(replicas).toBe(2);
    expect(container.args).toEqual(
      expect.arrayContaining([
        'controller',
        '--leader-elect',
        `--leader-election-namespace=${NAMESPACE}`,
        '--leader-election-id=greenlight-controller',
        '--metrics-bind-address=:8080',
        '--health-probe-bind-address=:8081',
      ]),
    );
    expect(container.args.some((arg) => arg.startsWith('--namespace='))).toBe(false);
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'health' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'health' });
    expect(container.ports.map((port) => port.name)).toEqual(['metrics', 'health']);
    expect(container.resources.requests).toEqual({ cpu: '100m', memory: '128Mi' });
    expect(container.resources.limits?.['memory']).toBe('512Mi');
    // The restricted Pod Security Standard.
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.securityContext['runAsUser']).toBeGreaterThan(0);
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(pod.serviceAccountName).toBe('greenlight');
    // Slack is off: no Secret, no Slack variables or flags.
    expect(container.env?.map((variable) => variable.name)).toEqual(['NODE_ENV']);
    expect(
      container.args.filter((arg) => arg.startsWith('--slack-') && !arg.startsWith('--slack-bind')),
    ).toEqual([]);
    const slackOn = deployment(
      parseManifests(await template({ values: { slack: { enabled: true, existingSecret: 'slack' } } })),
    );
    // Slack on, nothing said about identity: only SlackIdentity objects link people (fail closed).
    expect(slackOn.container.args).toContain('--slack-username-claim=none');

    const kinds = manifests.map((m) => m.kind).sort();
    expect(new Set(kinds)).toEqual(
      new Set([
        'ClusterRole',
        'ClusterRoleBinding',
        'CustomResourceDefinition',
        'Deployment',
        'PodDisruptionBudget',
        'Role',
        'RoleBinding',
        'Service',
        'ServiceAccount',
        'ValidatingAdmissionPolicy',
        'ValidatingAdmissionPolicyBinding',
      ]),
    );
    const clusterScoped = new Set([
      'ClusterRole',
      'ClusterRoleBinding',
      'CustomResourceDefinition',
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding',
    ]);
    for (const manifest of manifests) {
      expect(manifest.metadata.namespace, `${manifest.kind} ${manifest.metadata.name}`).toBe(
        clusterScoped.has(manifest.kind) ? undefined : NAMESPACE,
      );
      expect(manifest.metadata.labels?.['app.kubernetes.io/instance']).toBe('greenlight');
    }
    expect(find(manifests, 'PodDisruptionBudget')['spec']).toMatchObject({ maxUnavailable: 1 });
  });

  it('grants the controller exactly what docs/operations.md lists, and nothing else', async () => {
    const manifests = parseManifests(await template());
    expect(grantsTo(manifests, 'greenlight', NAMESPACE)).toEqual(
      controllerGrants('cluster', NAMESPACE, 'greenlight-controller'),
    );
    const operations = await readFile(join(REPOSITORY_ROOT, 'docs', 'operations.md'), 'utf8');
    expect(operations).toContain('the custom verb `decide` on approvalrequests');
    expect(operations).toContain('`delete` approvalrequests with `--retain-decided`');
  });

  it('grants delete on requests only when retention is on, and passes it to the controller', async () => {
    const manifests = parseManifests(await template({ values: { controller: { retainDecided: '720h' } } }));
    expect(grantsTo(manifests, 'greenlight', NAMESPACE)).toEqual(
      [
        ...controllerGrants('cluster', NAMESPACE, 'greenlight-controller'),
        'delete greenlight.dev/approvalrequests in cluster',
      ].sort(),
    );
    expect(deployment(manifests).container.args).toContain('--retain-decided=720h');
    const refused = await tryTemplate({ values: { controller: { retainDecided: '30 days' } } });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('retainDecided');
  });

  it('binds the controller in its namespace only with controller.watchNamespace, and grants the declared context kinds', async () => {
    const manifests = parseManifests(
      await template({
        release: 'gl',
        values: {
          controller: { watchNamespace: 'payments', leaderElection: { leaseName: 'gl-lease' } },
          rbac: {
            contextResources: [
              { apiGroups: ['apps'], resources: ['deployments'], namespaces: ['staging', 'production'] },
              {
                apiGroups: [''],
                resources: ['configmaps'],
                resourceNames: ['freeze'],
                namespaces: ['staging'],
              },
              { apiGroups: ['argoproj.io'], resources: ['rollouts'] },
            ],
          },
        },
      }),
    );
    const contextGrants = [
      ...['get', 'list', 'watch'].flatMap((verb) => [
        `${verb} apps/deployments in staging`,
        `${verb} apps/deployments in production`,
        `${verb} core/configmaps (freeze) in staging`,
        `${verb} argoproj.io/rollouts in cluster`,
      ]),
    ];
    expect(grantsTo(manifests, 'gl-greenlight', NAMESPACE)).toEqual(
      [...controllerGrants('payments', NAMESPACE, 'gl-lease'), ...contextGrants].sort(),
    );
    expect(deployment(manifests).container.args).toContain('--namespace=payments');
  });

  it('grants get on webhook signing Secrets only where rbac.webhookSecrets says, never list or watch', async () => {
    const grants = async (webhookSecrets: object): Promise<string[]> =>
      grantsTo(
        parseManifests(await template({ values: { rbac: { webhookSecrets } } })),
        'greenlight',
        NAMESPACE,
      ).filter((grant) => grant.includes('core/secrets'));
    expect(await grants({ namespaces: [] })).toEqual([]);
    expect(await grants({ namespaces: ['finance', 'delivery'] })).toEqual([
      'get core/secrets in delivery',
      'get core/secrets in finance',
    ]);
    expect(await grants({ namespaces: ['finance'], names: ['automation'] })).toEqual([
      'get core/secrets (automation) in finance',
    ]);
    expect(await grants({ namespaces: ['*'] })).toEqual(['get core/secrets in cluster']);
  });

  it('has aggregated ClusterRoles for approvers, requesters and viewers', async () => {
    const manifests = parseManifests(await template());
    const role = (name: string): KubernetesManifest => find(manifests, 'ClusterRole', `greenlight-${name}`);
    const rules = (name: string): PolicyRule[] => role(name)['rules'] as PolicyRule[];
    expect(role('approver').metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-admin']).toBe('true');
    // The same rules as the demo installs (src/api/v1alpha1/roles.ts).
    expect(rules('approver')).toEqual(USER_ROLES.approver.rules);
    expect(role('requester').metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-edit']).toBe('true');
    expect(rules('requester')).toEqual(USER_ROLES.requester.rules);
    expect(rules('viewer')).toEqual(USER_ROLES.viewer.rules);
    expect(role('viewer').metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-view']).toBe('true');
    // Nobody but the controller gets `decide`: the admission policy exempts exactly its holders.
    for (const manifest of manifests.filter(
      (m) => m.kind === 'ClusterRole' && m.metadata.name !== 'greenlight-controller',
    ))
      expect(JSON.stringify(manifest['rules'])).not.toContain('decide');

    const off = parseManifests(
      await template({
        values: {
          rbac: {
            approver: { aggregateToAdmin: false },
            requester: { create: false },
            viewer: { aggregateToView: false },
          },
        },
      }),
    );
    expect(JSON.stringify(off)).not.toContain('aggregate-to-');
    expect(off.some((m) => m.metadata.name === 'greenlight-requester')).toBe(false);
  });

  it('renders every optional object with every feature on', async () => {
    const manifests = parseManifests(await template({ release: 'gl', valuesFiles: [FULL_VALUES_FILE] }));
    const { replicas, container, pod } = deployment(manifests);
    expect(replicas).toBe(3);
    expect(pod.serviceAccountName).toBe('greenlight-controller');
    const secret = find(manifests, 'Secret', 'gl-greenlight-slack');
    expect(Object.keys(secret['stringData'] as object).sort()).toEqual([
      'SLACK_BOT_TOKEN',
      'SLACK_SIGNING_SECRET',
    ]);
    expect(container.env?.find((v) => v.name === 'SLACK_BOT_TOKEN')?.valueFrom?.secretKeyRef).toEqual({
      name: 'gl-greenlight-slack',
      key: 'SLACK_BOT_TOKEN',
    });
    expect(container.env?.find((v) => v.name === 'SLACK_API_URL')?.value).toBe(
      'https://slack-proxy.example.com/api/',
    );
    // How Slack users are related to Kubernetes users (docs/security.md).
    expect(container.args).toEqual(
      expect.arrayContaining([
        '--slack-username-claim=email',
        '--slack-username-prefix=oidc:',
        '--slack-allowed-teams=T0PARTNER,E0ACME',
        '--slack-allow-guests',
        '--webhook-allow-link-local',
      ]),
    );
    expect(grantsTo(manifests, 'greenlight-controller', 'greenlight-system')).toContain(
      'get core/secrets (automation-webhook) in payments',
    );
    expect(find(manifests, 'Service', 'gl-greenlight-slack')['spec']).toMatchObject({
      ports: [{ name: 'http', port: 8080, targetPort: 'slack' }],
    });
    const monitor = find(manifests, 'ServiceMonitor');
    expect(monitor.metadata.labels?.['release']).toBe('prometheus');
    expect(monitor['spec']).toMatchObject({
      endpoints: [
        {
          port: 'metrics',
          interval: '15s',
          relabelings: [{ targetLabel: 'job', replacement: 'greenlight' }],
        },
      ],
    });
    const rules = load(await readFile(join(REPOSITORY_ROOT, 'alerts', 'greenlight.rules.yaml'), 'utf8'));
    expect(find(manifests, 'PrometheusRule')['spec']).toEqual(rules);
    const dashboard = find(manifests, 'ConfigMap', 'gl-greenlight-dashboard');
    expect(dashboard.metadata).toMatchObject({
      namespace: 'monitoring',
      labels: { grafana_dashboard: '1' },
      annotations: { grafana_folder: 'Platform' },
    });
    const json = await readFile(join(CHART_DIR, 'files', 'dashboards', 'greenlight.json'), 'utf8');
    expect(JSON.parse((dashboard['data'] as Record<string, string>)['greenlight.json'] ?? '')).toEqual(
      JSON.parse(json),
    );
    expect(find(manifests, 'NetworkPolicy')['spec']).toMatchObject({ policyTypes: ['Ingress', 'Egress'] });
    expect(find(manifests, 'PodDisruptionBudget')['spec']).toMatchObject({ maxUnavailable: 1 });
    // CRDs without the keep annotation (crds.keep: false).
    for (const crd of manifests.filter((m) => m.kind === 'CustomResourceDefinition'))
      expect(crd.metadata.annotations).toBeUndefined();
  });

  it.each([
    ['an unknown value', { replicas: 3 }, "at '': additional properties 'replicas' not allowed"],
    [
      'a misspelt nested value',
      { controller: { leaderElection: { enable: false } } },
      "at '/controller/leaderElection': additional properties 'enable' not allowed",
    ],
    ['a number as text', { replicaCount: 'two' }, "at '/replicaCount': got string, want integer"],
    ['a log level that does not exist', { controller: { logLevel: 'verbose' } }, "at '/controller/logLevel'"],
    [
      'a duration in words',
      { controller: { leaderElection: { leaseDuration: '15 seconds' } } },
      'leaseDuration',
    ],
    ['an app token as the bot token', { slack: { botToken: 'xapp-1-abc' } }, "at '/slack/botToken'"],
    [
      'a wildcard context kind',
      { rbac: { contextResources: [{ apiGroups: ['*'], resources: ['*'] }] } },
      "at '/rbac/contextResources/0/apiGroups/0'",
    ],
    ['a truncated digest', { image: { digest: 'sha256:abc' } }, "at '/image/digest'"],
    ['a flag without dashes', { controller: { extraArgs: ['namespace=x'] } }, "at '/controller/extraArgs/0'"],
    [
      "a label that overrides the chart's own",
      { commonLabels: { 'app.kubernetes.io/name': 'x' } },
      "at '/commonLabels/app.kubernetes.io~1name'",
    ],
    [
      'an unknown key in a Kubernetes structure',
      { tolerations: [{ key: 'a', efect: 'NoSchedule' }] },
      'efect',
    ],
  ])('refuses %s with a message naming it', async (_case, values, message) => {
    const result = await tryTemplate({ values });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("values don't meet the specifications of the schema");
    expect(result.stderr).toContain(message);
  });

  it.each([
    [
      'Slack without a token',
      { slack: { enabled: true } },
      'slack.enabled is true but there is no bot token: set slack.existingSecret',
    ],
    [
      'Slack without a way to receive clicks',
      { slack: { enabled: true, botToken: 'xoxb-1' } },
      'set slack.signingSecret (HTTP interactivity) or slack.appToken (Socket Mode)',
    ],
    [
      'several replicas without leader election',
      { controller: { leaderElection: { enabled: false } } },
      'replicaCount is more than 1 but controller.leaderElection.enabled is false',
    ],
  ])('refuses %s with a message saying what to do', async (_case, values, message) => {
    const result = await tryTemplate({ values });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(message);
  });

  it('tells the user what to do next (NOTES.txt)', async () => {
    const notes = async (args: readonly string[]): Promise<string> => {
      const result = await helm([
        'install',
        // Not "greenlight": the test control plane has the greenlight-* ClusterRoles `greenlight demo`
        // installs, which helm would refuse to take over.
        'greenlight-notes',
        CHART_DIR,
        '--namespace',
        NAMESPACE,
        '--dry-run=client',
        `--kubeconfig=${cluster().kubeconfigs.admin}`,
        // helm checks that cluster-wide objects it would create are not someone else's: the test
        // control plane has these already.
        '--set=crds.enabled=false,admissionPolicies.enabled=false',
        ...args,
      ]);
      expect(result.code, result.stderr).toBe(0);
      return result.stdout.slice(result.stdout.indexOf('NOTES:'));
    };
    const defaults = await notes([]);
    for (const text of [
      'kubectl -n greenlight-system rollout status deployment/greenlight-notes',
      '--clusterrole=greenlight-notes-requester',
      '--clusterrole=greenlight-notes-approver',
      'Policies may read no kinds as `context` yet',
      'Slack is off',
      'docs/alerts.md',
    ])
      expect(defaults).toContain(text);
    const full = await notes([
      '-f',
      FULL_VALUES_FILE,
      // prometheus-operator's kinds are not served by the test control plane.
      '--set=metrics.serviceMonitor.enabled=false,metrics.prometheusRule.enabled=false',
    ]);
    for (const text of [
      'this release watches namespace payments only',
      '- deployments (apps) in staging, production',
      '- rollouts (argoproj.io) in every namespace',
      'route https://<your ingress>/slack/events to',
    ])
      expect(full).toContain(text);
    expect(full).not.toContain('xoxb-123-456-abc');
  });

  it('renders the generated CRDs from src/api, kept on uninstall unless crds.keep is false', async () => {
    const manifests = parseManifests(
      await template({ showOnly: 'templates/crds/approvalrequests.greenlight.dev.yaml' }),
    );
    const all = parseManifests(await template()).filter((m) => m.kind === 'CustomResourceDefinition');
    expect(all.map(withoutLabels)).toEqual(expect.arrayContaining(CRDS.map((crd) => withoutLabels(crd))));
    expect(all).toHaveLength(CRDS.length);
    expect(manifests[0]?.metadata.annotations).toEqual({ 'helm.sh/resource-policy': 'keep' });
    const withoutKeep = parseManifests(await template({ values: { crds: { keep: false } } }));
    expect(
      withoutKeep.filter((m) => m.kind === 'CustomResourceDefinition').map((m) => m.metadata.annotations),
    ).toEqual(CRDS.map(() => undefined));
    const off = parseManifests(await template({ values: { crds: { enabled: false } } }));
    expect(off.some((m) => m.kind === 'CustomResourceDefinition')).toBe(false);
  });

  it('renders the admission policies of config/admission-policies.yaml, from src/api', async () => {
    const admission = parseManifests(await template({ showOnly: 'templates/admission-policies.yaml' }));
    const byKindAndName = (a: unknown, b: unknown): number =>
      JSON.stringify(a).localeCompare(JSON.stringify(b));
    expect(admission.map(withoutLabels).sort(byKindAndName)).toEqual(
      ADMISSION_MANIFESTS.map(withoutLabels).sort(byKindAndName),
    );
    const off = parseManifests(await template({ values: { admissionPolicies: { enabled: false } } }));
    expect(off.some((m) => m.kind.startsWith('ValidatingAdmissionPolicy'))).toBe(false);
  });

  it('is what deploy/ holds: the chart with its default values (run `npm run generate` after changing it)', async () => {
    expect(await readFile(PLAIN_MANIFESTS_FILE, 'utf8')).toBe(await renderPlainManifests());
    expect(await readFile(PLAIN_MUTATING_FILE, 'utf8')).toBe(await renderPlainMutatingManifests());
  });

  it('installs the MutatingAdmissionPolicy only where the API server serves it (Kubernetes 1.36+)', async () => {
    const kinds = (manifests: readonly KubernetesManifest[]): string[] => manifests.map((m) => m.kind);
    expect(kinds(parseManifests(await template()))).not.toContain('MutatingAdmissionPolicy');
    const served = parseManifests(await template({ apiVersions: [MUTATING_ADMISSION_API] }));
    expect(kinds(served)).toEqual(
      expect.arrayContaining(['MutatingAdmissionPolicy', 'MutatingAdmissionPolicyBinding']),
    );
    const off = parseManifests(
      await template({
        apiVersions: [MUTATING_ADMISSION_API],
        values: { admissionPolicies: { enabled: false } },
      }),
    );
    expect(kinds(off)).not.toContain('MutatingAdmissionPolicy');
  });

  it('ships the rules of alerts/greenlight.rules.yaml (run `npm run generate` after changing them)', async () => {
    const [copy, source] = await Promise.all([
      readFile(join(CHART_DIR, 'files', 'greenlight.rules.yaml'), 'utf8'),
      readFile(join(REPOSITORY_ROOT, 'alerts', 'greenlight.rules.yaml'), 'utf8'),
    ]);
    expect(copy).toBe(
      `# Copied by \`npm run generate\` from alerts/greenlight.rules.yaml. Do not edit by hand.\n${source}`,
    );
  });

  it('documents every value, and its schema describes every value and refuses unknown ones', async () => {
    const schema = JSON.parse(await readFile(join(CHART_DIR, 'values.schema.json'), 'utf8')) as Schema;
    const valuesText = await readFile(join(CHART_DIR, 'values.yaml'), 'utf8');
    const problems: string[] = [];
    // Every key of values.yaml has a comment right above it (fields of list items excepted).
    for (const { line, key, path } of valueKeys(valuesText)) {
      const previous = valuesText.split('\n')[line - 2]?.trim() ?? '';
      if (!previous.startsWith('#')) problems.push(`values.yaml:${line} ${path || key} has no comment`);
    }
    // Every value is in the schema (helm template with the defaults would fail otherwise) and every
    // schema property is in values.yaml.
    const values = load(valuesText) as Record<string, unknown>;
    for (const path of schemaPaths(schema, schema, '')) {
      if (!hasPath(values, path)) problems.push(`${path} is in the schema but not in values.yaml`);
    }
    for (const [path, node] of schemaNodes(schema, schema, '')) {
      const isEntry = path.endsWith('[]') || path.endsWith('{}');
      if (!node.description && !isEntry) problems.push(`${path || '(root)'} has no description`);
      const isObject = node.type === 'object' || (Array.isArray(node.type) && node.type.includes('object'));
      if (isObject && node.additionalProperties === undefined && path !== '/global')
        problems.push(`${path || '(root)'} does not refuse unknown keys`);
    }
    expect(problems).toEqual([]);
  });

  it('renders objects the API server accepts (server-side dry run), with every feature on', async () => {
    const [watched, staging, monitoring] = await Promise.all([
      createTestNamespace('chart-dry-run-watched'),
      createTestNamespace('chart-dry-run-staging'),
      createTestNamespace('chart-dry-run-monitoring'),
    ]);
    const release = await createTestNamespace('chart-dry-run');
    const values = {
      controller: { watchNamespace: watched },
      rbac: {
        contextResources: [
          { apiGroups: ['apps'], resources: ['deployments'], namespaces: [staging] },
          { apiGroups: [''], resources: ['configmaps'] },
        ],
        webhookSecrets: { namespaces: [watched], names: ['automation-webhook'] },
      },
      metrics: { dashboard: { namespace: monitoring } },
    };
    const rendered = parseManifests(
      await template({
        release: `dry-${release.slice(-8)}`,
        namespace: release,
        valuesFiles: [FULL_VALUES_FILE],
        values,
      }),
    ).filter((m) => !m.apiVersion.startsWith('monitoring.coreos.com/')); // prometheus-operator is not installed
    await withValuesFile({ apiVersion: 'v1', kind: 'List', items: rendered }, async (file) => {
      const result = await run(cluster().kubectl, [
        `--kubeconfig=${cluster().kubeconfigs.admin}`,
        'apply',
        '--server-side',
        '--dry-run=server',
        '--force-conflicts',
        '--field-manager=greenlight-chart-test',
        '-f',
        file,
      ]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout.trim().split('\n')).toHaveLength(rendered.length);
    });
  });
});

interface Schema {
  readonly type?: string | readonly string[];
  readonly description?: string;
  readonly $ref?: string;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly additionalProperties?: boolean | Schema;
  readonly items?: Schema;
  readonly $defs?: Readonly<Record<string, Schema>>;
}

/** Every property path of the schema's top-level tree (not into lists), as /a/b. */
function* schemaPaths(root: Schema, node: Schema, path: string): Generator<string> {
  // A $ref is a Kubernetes structure (affinity, resources, …): documented by Kubernetes, and only the
  // parts the chart sets by default are in values.yaml.
  if (node.$ref) return;
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    yield `${path}/${name}`;
    yield* schemaPaths(root, child, `${path}/${name}`);
  }
}

/** Every schema node, $defs included, with a path for messages. */
function* schemaNodes(root: Schema, node: Schema, path: string): Generator<[string, Schema]> {
  yield [path, node];
  for (const [name, child] of Object.entries(node.properties ?? {}))
    yield* schemaNodes(root, child, `${path}/${name}`);
  if (node.items) yield* schemaNodes(root, node.items, `${path}[]`);
  if (typeof node.additionalProperties === 'object')
    yield* schemaNodes(root, node.additionalProperties, `${path}{}`);
  if (node === root)
    for (const [name, definition] of Object.entries(root.$defs ?? {}))
      yield* schemaNodes(root, definition, `$defs/${name}`);
}

function hasPath(values: Readonly<Record<string, unknown>>, path: string): boolean {
  let current: unknown = values;
  for (const segment of path.split('/').slice(1)) {
    if (typeof current !== 'object' || current === null || !(segment in current)) return false;
    current = (current as Record<string, unknown>)[segment];
  }
  return true;
}

/** The keys of a values.yaml, with their line and dotted path; fields of list items are left out. */
function valueKeys(text: string): { line: number; key: string; path: string }[] {
  const keys: { line: number; key: string; path: string }[] = [];
  const stack: { indent: number; key: string }[] = [];
  let insideListDeeperThan: number | undefined;
  text.split('\n').forEach((content, index) => {
    if (content.trim() === '' || content.trim().startsWith('#')) return;
    const indent = content.length - content.trimStart().length;
    if (insideListDeeperThan !== undefined && indent > insideListDeeperThan) return;
    insideListDeeperThan = undefined;
    while (stack.length > 0 && (stack.at(-1)?.indent ?? -1) >= indent) stack.pop();
    if (content.trimStart().startsWith('- ')) {
      insideListDeeperThan = stack.at(-1)?.indent ?? -1;
      return;
    }
    const key = /^\s*([\w.-]+):/.exec(content)?.[1];
    if (!key) return;
    stack.push({ indent, key });
    keys.push({ line: index + 1, key, path: stack.map((entry) => entry.key).join('.') });
  });
  return keys;
}
