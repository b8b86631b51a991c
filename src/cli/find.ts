import type { KubeConfig } from '@kubernetes/client-node';
import { APPROVAL_REQUEST_PLURAL, type ApprovalRequest } from '../api/v1alpha1/approval-request.ts';
import { LookupError } from '../errors.ts';
import { isForbidden, isNotFound } from '../k8s/api-errors.ts';
import { GreenlightApi } from '../k8s/greenlight-api.ts';
import { namespaceOf, namespaceSource, type KubeOptions } from './kube.ts';

/**
 * Reads the request NAME in the namespace the caller means. When it is not there (or the caller may
 * not read that namespace), the error says which namespace was used and why, and where a request of
 * that name is, among the namespaces the caller may list: a missing -n must not read as a permissions
 * problem.
 */
export async function getRequestNamed(
  kubeConfig: KubeConfig,
  options: KubeOptions,
  name: string,
): Promise<{ request: ApprovalRequest; namespace: string }> {
  const api = new GreenlightApi(kubeConfig);
  const namespace = namespaceOf(kubeConfig, options);
  try {
    return { request: await api.getRequest(namespace, name), namespace };
  } catch (error) {
    if (!isNotFound(error) && !isForbidden(error)) throw error;
    const elsewhere = (await namespacesHolding(api, name)).filter((found) => found !== namespace);
    throw new LookupError(
      lookupMessage({
        name,
        namespace,
        source: namespaceSource(kubeConfig, options),
        forbidden: isForbidden(error),
        elsewhere,
      }),
      { cause: error },
    );
  }
}

/** The message for a request that was not found where the caller looked. Pure. */
export function lookupMessage(facts: {
  readonly name: string;
  readonly namespace: string;
  readonly source: string;
  readonly forbidden: boolean;
  readonly elsewhere: readonly string[];
}): string {
  const { name, namespace, source, forbidden, elsewhere } = facts;
  const what = forbidden
    ? `you may not read ApprovalRequests in namespace "${namespace}"`
    : `there is no ApprovalRequest "${name}" in namespace "${namespace}"`;
  const looked = `${what} (${source})`;
  if (elsewhere.length === 1)
    return `${looked}; ${name} is in namespace "${elsewhere[0] ?? ''}": add -n ${elsewhere[0] ?? ''}`;
  if (elsewhere.length > 1)
    return `${looked}; requests named ${name} are in namespaces ${elsewhere.join(', ')}: add -n NAMESPACE`;
  const hint = source === '-n' ? 'check the name and the namespace.' : 'is -n missing?';
  return forbidden
    ? `${looked}: ${hint} If it is the right namespace, ask your platform team for greenlight-viewer (to read) or greenlight-approver (to answer) there.`
    : `${looked}: ${hint}`;
}

/** Namespaces holding a request of this name, among those the caller may list (none when it may not list across namespaces). */
async function namespacesHolding(api: GreenlightApi, name: string): Promise<string[]> {
  try {
    const page = (await api.listPage(
      APPROVAL_REQUEST_PLURAL,
      undefined,
      undefined,
      `metadata.name=${name}`,
    )) as {
      items?: ApprovalRequest[];
    };
    return (page.items ?? []).map((request) => request.metadata.namespace ?? '').filter(Boolean);
  } catch (error) {
    if (isForbidden(error)) return [];
    throw error;
  }
}
