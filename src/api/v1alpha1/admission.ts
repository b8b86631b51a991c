import { dump } from 'js-yaml';
import { APPROVAL_REQUEST_PLURAL, ApprovalRequestStatusSchema, FINAL_PHASES } from './approval-request.ts';
import { GROUP } from './schema.ts';

/**
 * The ValidatingAdmissionPolicies that make the API server itself guard who may say what:
 * a request's `requester` is its creator, and people (anyone not allowed Greenlight's `decide`
 * verb) may only add one approval entry naming themselves to a request's status.
 */

/** The custom RBAC verb that marks the controller; only its ClusterRole grants it. */
export const CONTROLLER_VERB = 'decide';

type Manifest = Readonly<Record<string, unknown>>;

const finalPhases = `[${FINAL_PHASES.map((phase) => `'${phase}'`).join(', ')}]`;
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
const approvalsByPeople = 'greenlight-approvals-by-people';

export const requesterIsCallerPolicy: Manifest = {
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'ValidatingAdmissionPolicy',
  metadata: { name: requesterIsCaller, labels },
  spec: {
    failurePolicy: 'Fail',
    matchConstraints: {
      resourceRules: [
        {
          apiGroups: [GROUP],
          apiVersions: ['*'],
          operations: ['CREATE'],
          resources: [APPROVAL_REQUEST_PLURAL],
        },
      ],
    },
    validations: [
      {
        expression: 'object.spec.requester == request.userInfo.username',
        messageExpression:
          "'spec.requester must be the user creating the request (' + request.userInfo.username + '), not ' + object.spec.requester",
        reason: 'Forbidden',
      },
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
    matchConditions: [
      {
        name: 'not-the-controller',
        expression: `!authorizer.group('${GROUP}').resource('${APPROVAL_REQUEST_PLURAL}').namespace(request.namespace).check('${CONTROLLER_VERB}').allowed()`,
      },
    ],
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
    ],
    validations: [
      {
        expression: `has(oldObject.status) && has(oldObject.status.phase) && !(oldObject.status.phase in ${finalPhases})`,
        message: 'only undecided requests take approvals: this one has no status yet or is already decided',
        reason: 'Forbidden',
      },
      ...controllerOwnedFields.map((field) => ({
        expression:
          `has(object.status) && has(object.status.${field}) == has(oldObject.status.${field}) && ` +
          `(!has(object.status.${field}) || object.status.${field} == oldObject.status.${field})`,
        message: `status.${field} is written by Greenlight only; people may only add an entry to status.approvals`,
        reason: 'Forbidden',
      })),
      {
        expression:
          'size(variables.newApprovals) == size(variables.oldApprovals) + 1 && ' +
          'variables.oldApprovals.all(a, a in variables.newApprovals)',
        message: 'add exactly one entry to status.approvals and keep the existing ones',
        reason: 'Forbidden',
      },
      {
        expression:
          "variables.added.all(a, a.approver == request.userInfo.username && a.via == 'kubernetes')",
        messageExpression:
          "'status.approvals: the new entry must name the caller (' + request.userInfo.username + ') with via: kubernetes'",
        reason: 'Forbidden',
      },
      {
        expression: 'variables.added.all(a, !has(a.groups) || a.groups == request.userInfo.groups)',
        message: "status.approvals[].groups must be the caller's groups as authenticated, or be left out",
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
