import { execFile } from 'node:child_process';
import { packagePath } from '../package-root.ts';
import { promisify } from 'node:util';
import { LocalClusterError } from '../errors.ts';

/** The generated CRDs shipped with the package. */
export const CRDS_DIR = packagePath('crds');
/** The generated ValidatingAdmissionPolicies and their bindings. */
export const ADMISSION_POLICIES = packagePath('config', 'admission-policies.yaml');

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

/** Applies Greenlight's ValidatingAdmissionPolicies and their bindings. */
export async function installAdmissionPolicies(binary: string, kubeconfig: string): Promise<void> {
  await kubectl(binary, kubeconfig, [
    'apply',
    '--server-side',
    '--field-manager=greenlight',
    '-f',
    ADMISSION_POLICIES,
  ]);
}
