import {
  APPROVAL_REQUEST_PLURAL,
  UNDECIDED_FIELD_SELECTOR,
  isFinal,
  type ApprovalRequest,
} from '../../api/v1alpha1/approval-request.ts';
import { fieldSelectorRefused } from '../../k8s/api-errors.ts';
import type { GreenlightApi } from '../../k8s/greenlight-api.ts';
import { pagedList, trimmed } from '../../k8s/informer.ts';

/**
 * What the request cache keeps of a request: an undecided one without managedFields; of a final one
 * only a stub (identity, action, requester, phase and decision) — a final request is never evaluated
 * again, and nothing reads its parameters or why-trace from the cache (docs/benchmarks.md, F3).
 * Slack gets decided requests whole from the reconciler that decided them.
 */
export function cachedRequest(request: ApprovalRequest): ApprovalRequest {
  if (!isFinal(request.status?.phase)) return trimmed(request);
  const { metadata, spec, status } = request;
  return {
    apiVersion: request.apiVersion,
    kind: request.kind,
    metadata: defined({
      name: metadata.name,
      namespace: metadata.namespace,
      uid: metadata.uid,
      resourceVersion: metadata.resourceVersion,
      creationTimestamp: metadata.creationTimestamp,
    }),
    spec: { action: spec.action, ...defined({ requester: spec.requester }) },
    status: defined({ phase: status?.phase, decision: status?.decision }),
  };
}

/** The fields that have a value (exactOptionalPropertyTypes: an absent field is not `undefined`). */
function defined<T extends Record<string, unknown>>(
  fields: T,
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}

export interface UndecidedRequestSource {
  /** The informer's list: pages of undecided requests, or of all requests once the selector was refused. */
  readonly list: () => Promise<{ items: ApprovalRequest[]; metadata: { resourceVersion: string } }>;
  /** The field selector for the watch that follows a list. */
  readonly fieldSelector: () => string | undefined;
}

/**
 * Lists and watches only undecided requests (docs/benchmarks.md, F5): a controller with 100,000
 * decided requests stored reads none of them, and a request that becomes final leaves the watch as
 * a deletion. On an API server that refuses the selector, it falls back once, for good, to all
 * requests (decided ones cached as stubs) and says so.
 */
export function undecidedRequestSource(
  api: GreenlightApi,
  namespace: string | undefined,
  onFallback: (error: unknown) => void,
  fieldSelector: string = UNDECIDED_FIELD_SELECTOR,
): UndecidedRequestSource {
  let selector: string | undefined = fieldSelector;
  const list = pagedList<ApprovalRequest>(async (token) => {
    try {
      return await api.listPage(APPROVAL_REQUEST_PLURAL, namespace, token, selector);
    } catch (error) {
      if (selector === undefined || token !== undefined || !fieldSelectorRefused(error)) throw error;
      selector = undefined;
      onFallback(error);
      return api.listPage(APPROVAL_REQUEST_PLURAL, namespace, token);
    }
  });
  return { list, fieldSelector: () => selector };
}
