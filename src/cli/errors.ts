import { GreenlightError, messageOf, UsageError } from '../errors.ts';
import { apiMessageOf, isApiRefusal, statusCodeOf } from '../k8s/api-errors.ts';

const hints: Readonly<Record<number, string>> = {
  401: 'the API server refused your credentials: check your kubeconfig (or log in again)',
  403: 'ask your platform team for the role you need (greenlight-requester to ask, greenlight-approver to answer)',
  404: 'check the name and the namespace (-n); is Greenlight installed (kubectl get crd approvalrequests.greenlight.dev)?',
};

/** What the person at the terminal should read, and what to do about it. */
export function describeError(error: unknown): string {
  if (isApiRefusal(error)) {
    const hint = hints[statusCodeOf(error) ?? 0];
    return hint ? `${apiMessageOf(error)}\n  hint: ${hint}` : apiMessageOf(error);
  }
  if (error instanceof GreenlightError) return error.message;
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  if (cause && (cause.code === 'ECONNREFUSED' || cause.code === 'ENOTFOUND')) {
    return `cannot reach the API server (${cause.code}): is the cluster up, and is your kubeconfig pointing at it?`;
  }
  return messageOf(error);
}

export function isUsageError(error: unknown): boolean {
  return (
    error instanceof UsageError ||
    (error as { code?: unknown } | null)?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
  );
}
