import { execFile } from 'node:child_process';
import { packagePath } from '../package-root.ts';
import { promisify } from 'node:util';
import { LocalClusterError } from '../errors.ts';

/** The generated CRDs shipped with the package. */
export const CRDS_DIR = packagePath('crds');
/** The generated ValidatingAdmissionPolicies and their bindings. */
export const ADMISSION_POLICIES = packagePath('config', 'admission-policies.yaml');
export const MUTATING_ADMISSION_POLICIES = packagePath('config', 'mutating-admission-policies.yaml');

/** Runs kubectl against a kubeconfig; rejects with kubectl's own message on failure. */
export async function kubectl(binary: string, kubeconfig: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(binary, [`--kubeconfig=${kubeconfig}`, ...args], {
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: unknown }).stderr;
    throw new LocalClusterError(
      `kubectl ${args.join(' ')} failed: ${typeof stderr === 'string' ? stderr.trim() : ''}`,
      {
        cause: error,
      },
    );
  }
}

/** Applies Greenlight's CRDs (server-side, as a user would) and waits until they are served. */
export async function installCrds(binary: string, kubeconfig: string): Promise<void> {
  await kubectl(binary, kubeconfig, ['apply', '--server-side', '--field-manager=greenlight', '-f', CRDS_DIR]);
  await kubectl(binary, kubeconfig, [
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    'crd/approvalrequests.greenlight.dev',
    'crd/approvalpolicies.greenlight.dev',
    'crd/approvalintakes.greenlight.dev',
    'crd/slackidentities.greenlight.dev',
  ]);
}

/**
 * Applies Greenlight's ValidatingAdmissionPolicies and their bindings, and, where the API server
 * serves the kind (Kubernetes 1.36+), the MutatingAdmissionPolicy that fills an omitted requester.
 */
export async function installAdmissionPolicies(binary: string, kubeconfig: string): Promise<void> {
  const apply = (file: string): Promise<string> =>
    kubectl(binary, kubeconfig, ['apply', '--server-side', '--field-manager=greenlight', '-f', file]);
  await apply(ADMISSION_POLICIES);
  if (await servesMutatingAdmissionPolicies(binary, kubeconfig)) await apply(MUTATING_ADMISSION_POLICIES);
}

/** Whether the API server serves admissionregistration.k8s.io/v1 MutatingAdmissionPolicy (1.36+). */
export async function servesMutatingAdmissionPolicies(binary: string, kubeconfig: string): Promise<boolean> {
  const resources = await kubectl(binary, kubeconfig, [
    'api-resources',
    '--api-group=admissionregistration.k8s.io',
    '-o',
    'name',
  ]);
  return resources
    .split('\n')
    .some((line) => line.trim() === 'mutatingadmissionpolicies.admissionregistration.k8s.io');
}
