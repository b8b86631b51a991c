import { dump } from 'js-yaml';
import { APPROVAL_REQUEST_PLURAL } from './approval-request.ts';
import { ApprovalRequestStatusSchema } from './schemas/approval-request.ts';
import { APPROVAL_POLICY_PLURAL } from './approval-policy.ts';
import { SLACK_ORIGIN_ANNOTATIONS, SLACK_ORIGIN_LABELS, SLACK_REQUESTER_PREFIX } from './approval-intake.ts';
import { GROUP } from './schema.ts';

/**
 * The ValidatingAdmissionPolicies that make the API server itself guard who may say what:
 * a request's `requester` is its creator, and people (anyone not allowed Greenlight's `decide`
 * verb) may only add answers naming themselves, while the request waits for people, to a policy
 * that escalated it and that RBAC lets them approve. (The CRD's own rules keep status.approvals
 * append-only with one answer per person and policy generation, for every writer.)
 */

/** The custom RBAC verb that marks the controller; only its ClusterRole grants it. */
export const CONTROLLER_VERB = 'decide';

type Manifest = Readonly<Record<string, unknown>>;

const labels = { 'app.kubernetes.io/name': 'greenlight' };

function binding(policyName: string): Manifest {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name: policyName, labels },
    spec: { policyName, validationActions: ['Deny'] },
  };
}

const requesterIsCaller = 'greenlight-requester-is-caller';

/** The ApprovalRequest creations the requester policies look at. */
const requestCreations = {
  resourceRules: [
    { apiGroups: [GROUP], apiVersions: ['*'], operations: ['CREATE'], resources: [APPROVAL_REQUEST_PLURAL] },
  ],
};
const approvalsByPeople = 'greenlight-approvals-by-people';
const slackOrigin = 'greenlight-slack-origin';

/** CEL: whether the caller is allowed Greenlight's `decide` verb in the request's namespace (the controller). */
const isController = `authorizer.group('${GROUP}').resource('${APPROVAL_REQUEST_PLURAL}').namespace(request.namespace).check('${CONTROLLER_VERB}').allowed()`;

export const requesterIsCallerPolicy: Manifest = {
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'ValidatingAdmissionPolicy',
  metadata: { name: requesterIsCaller, labels },
  spec: {
    failurePolicy: 'Fail',
    matchConstraints: requestCreations,
    validations: [
      {
        expression: 'has(object.spec.requester)',
        messageExpression:
          "'spec.requester is required: set it to the user creating the request (' + request.userInfo.username + " +
          "'); on Kubernetes 1.36+, Greenlight\\'s MutatingAdmissionPolicy fills it in'",
        reason: 'Invalid',
      },
      {
        expression: `!has(object.spec.requester) || !object.spec.requester.startsWith('${SLACK_REQUESTER_PREFIX}') || ${isController}`,
        messageExpression:
          `'spec.requester ' + object.spec.requester + ' names a Slack sender: only Greenlight creates such ` +
          `requests, from messages in a channel an ApprovalIntake listens to; ask in your own name (' + ` +
          `request.userInfo.username + ')'`,
        reason: 'Forbidden',
      },
      {
        expression: `!has(object.spec.requester) || object.spec.requester.startsWith('${SLACK_REQUESTER_PREFIX}') || object.spec.requester == request.userInfo.username`,
        messageExpression:
          "'spec.requester must be the user creating the request (' + request.userInfo.username + '), not ' + object.spec.requester",
        reason: 'Forbidden',
      },
    ],
  },
};

/** CEL: `metadata.<map>[key]` is present on the object (or on the old object), null-safe. */
function present(object: 'object' | 'oldObject', map: 'annotations' | 'labels', key: string): string {
  const guard = object === 'oldObject' ? 'oldObject != null && ' : '';
  return `(${guard}has(${object}.metadata.${map}) && '${key}' in ${object}.metadata.${map})`;
}

/** One rule per key: nobody but the controller sets, changes or removes it. */
function unchangedByPeople(map: 'annotations' | 'labels', key: string): Record<string, string> {
  return {
    expression:
      `${present('object', map, key)} == ${present('oldObject', map, key)} && ` +
      `(!${present('object', map, key)} || object.metadata.${map}['${key}'] == oldObject.metadata.${map}['${key}'])`,
    message:
      `metadata.${map}[${key}] is set by Greenlight's Slack intake only: it says which Slack message a ` +
      'request answers, and nobody else may set, change or remove it',
    reason: 'Forbidden',
  };
}

/**
 * A request made from a Slack message says so in labels and annotations; Greenlight answers in that
 * message's thread and relates the person who asked to it. Only the controller writes them, so that
 * nobody makes Greenlight post into a thread of their choosing or hides who asked.
 */
export const slackOriginPolicy: Manifest = {
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'ValidatingAdmissionPolicy',
  metadata: { name: slackOrigin, labels },
  spec: {
    failurePolicy: 'Fail',
    matchConstraints: {
      resourceRules: [
        {
          apiGroups: [GROUP],
          apiVersions: ['*'],
          operations: ['CREATE', 'UPDATE'],
          resources: [APPROVAL_REQUEST_PLURAL],
        },
      ],
    },
    matchConditions: [{ name: 'not-the-controller', expression: `!${isController}` }],
    validations: [
      ...SLACK_ORIGIN_LABELS.map((key) => unchangedByPeople('labels', key)),
      ...SLACK_ORIGIN_ANNOTATIONS.map((key) => unchangedByPeople('annotations', key)),
    ],
  },
};

/** Every status field but `approvals` belongs to the controller; one rule each, so the message names it. */
const controllerOwnedFields = Object.keys(ApprovalRequestStatusSchema.properties).filter(
  (key) => key !== 'approvals',
);

export const approvalsByPeoplePolicy: Manifest = {
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'ValidatingAdmissionPolicy',
  metadata: { name: approvalsByPeople, labels },
  spec: {
    failurePolicy: 'Fail',
    matchConstraints: {
      resourceRules: [
        {
          apiGroups: [GROUP],
          apiVersions: ['*'],
          operations: ['UPDATE'],
          resources: [`${APPROVAL_REQUEST_PLURAL}/status`],
        },
      ],
    },
    matchConditions: [{ name: 'not-the-controller', expression: `!${isController}` }],
    variables: [
      {
        name: 'oldApprovals',
        expression:
          'has(oldObject.status) && has(oldObject.status.approvals) ? oldObject.status.approvals : []',
      },
      {
        name: 'newApprovals',
        expression: 'has(object.status) && has(object.status.approvals) ? object.status.approvals : []',
      },
      { name: 'added', expression: 'variables.newApprovals.filter(a, !(a in variables.oldApprovals))' },
      {
        name: 'asked',
        expression:
          'has(oldObject.status) && has(oldObject.status.evaluations) ? ' +
          "oldObject.status.evaluations.filter(e, e.result == 'Escalate' && !(has(e.dryRun) && e.dryRun)) : []",
      },
    ],
    validations: [
      {
        expression:
          "has(oldObject.status) && has(oldObject.status.phase) && oldObject.status.phase == 'Escalated'",
        messageExpression:
          "'answers are taken only while the request waits for people (Escalated); it is ' + " +
          "(has(oldObject.status) && has(oldObject.status.phase) ? oldObject.status.phase : 'not evaluated yet')",
        reason: 'Forbidden',
      },
      ...controllerOwnedFields.map((field) => ({
        expression:
          `has(object.status) && has(object.status.${field}) == has(oldObject.status.${field}) && ` +
          `(!has(object.status.${field}) || object.status.${field} == oldObject.status.${field})`,
        message: `status.${field} is written by Greenlight only; people may only add entries to status.approvals`,
        reason: 'Forbidden',
      })),
      {
        expression: 'size(variables.newApprovals) > size(variables.oldApprovals)',
        message: 'add your answer to the end of status.approvals and keep the existing entries',
        reason: 'Forbidden',
      },
      {
        expression:
          "variables.added.all(a, a.approver == request.userInfo.username && a.via == 'kubernetes')",
        messageExpression:
          "'status.approvals: a new entry must name the caller (' + request.userInfo.username + ') with via: kubernetes'",
        reason: 'Forbidden',
      },
      {
        expression: 'variables.added.all(a, !has(a.groups) || a.groups == request.userInfo.groups)',
        message: "status.approvals[].groups must be the caller's groups as authenticated, or be left out",
        reason: 'Forbidden',
      },
      {
        expression:
          'variables.added.all(a, variables.asked.exists(e, e.policy == a.policy && ' +
          'has(e.policyGeneration) && e.policyGeneration == a.policyGeneration))',
        message:
          'status.approvals: a new entry must answer a policy that escalated this request, with the ' +
          'policyGeneration status.evaluations shows for it',
        reason: 'Forbidden',
      },
      {
        expression:
          `variables.added.all(a, authorizer.group('${GROUP}').resource('${APPROVAL_POLICY_PLURAL}')` +
          ".namespace(request.namespace).name(a.policy).check('approve').allowed())",
        message: `status.approvals: RBAC must allow you the verb 'approve' on the ApprovalPolicy your entry answers`,
        reason: 'Forbidden',
      },
    ],
  },
};

export const ADMISSION_MANIFESTS: readonly Manifest[] = [
  requesterIsCallerPolicy,
  binding(requesterIsCaller),
  approvalsByPeoplePolicy,
  binding(approvalsByPeople),
  slackOriginPolicy,
  binding(slackOrigin),
];

export const ADMISSION_FILE = 'config/admission-policies.yaml';

export function renderAdmissionYaml(): string {
  const header =
    '# Generated by `npm run generate` from src/api/v1alpha1/admission.ts. Do not edit by hand.\n';
  return (
    header +
    ADMISSION_MANIFESTS.map((manifest) => dump(manifest, { lineWidth: 120, noRefs: true })).join('---\n')
  );
}

/**
 * A MutatingAdmissionPolicy (admissionregistration.k8s.io/v1, GA in Kubernetes 1.36) that fills an
 * omitted `spec.requester` with the caller, so a request kept in Git need not name the GitOps controller
 * that applies it. It never changes a requester that is given: the validating policy still refuses one
 * that names someone else.
 */
const requesterDefault = 'greenlight-requester-default';

export const requesterDefaultPolicy: Manifest = {
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'MutatingAdmissionPolicy',
  metadata: { name: requesterDefault, labels },
  spec: {
    failurePolicy: 'Fail',
    reinvocationPolicy: 'Never',
    matchConstraints: requestCreations,
    matchConditions: [
      {
        name: 'requester-omitted',
        expression: "!has(object.spec.requester) || object.spec.requester == ''",
      },
    ],
    mutations: [
      {
        patchType: 'JSONPatch',
        jsonPatch: {
          expression: "[JSONPatch{op: 'add', path: '/spec/requester', value: request.userInfo.username}]",
        },
      },
    ],
  },
};

export const MUTATING_ADMISSION_MANIFESTS: readonly Manifest[] = [
  requesterDefaultPolicy,
  {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingAdmissionPolicyBinding',
    metadata: { name: requesterDefault, labels },
    spec: { policyName: requesterDefault },
  },
];

/** A file of its own: an API server before 1.36 does not know the kind, and the VAPs must still apply. */
export const MUTATING_ADMISSION_FILE = 'config/mutating-admission-policies.yaml';

export function renderMutatingAdmissionYaml(): string {
  const header =
    '# Generated by `npm run generate` from src/api/v1alpha1/admission.ts. Do not edit by hand.\n' +
    '# Kubernetes 1.36+ (admissionregistration.k8s.io/v1 MutatingAdmissionPolicy): fills an omitted\n' +
    '# ApprovalRequest spec.requester with the caller.\n';
  return (
    header +
    MUTATING_ADMISSION_MANIFESTS.map((manifest) => dump(manifest, { lineWidth: 120, noRefs: true })).join(
      '---\n',
    )
  );
}
