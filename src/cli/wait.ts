import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { APPROVAL_REQUEST_PLURAL, isFinal, type ApprovalRequest } from '../api/v1alpha1/approval-request.ts';
import { GreenlightApi } from '../k8s/greenlight-api.ts';

/** The exit status of `greenlight wait` (and `request --wait`) for each outcome. */
export const WaitExit = { Approved: 0, Denied: 1, Expired: 2, TimedOut: 3 } as const;

const POLL_MS = 5_000;

export type WaitResult =
  { readonly kind: 'decided'; readonly request: ApprovalRequest } | { readonly kind: 'timeout' };

/**
 * Waits until the request is decided: a watch delivers the decision the moment it is written, and a
 * slow poll covers a watch that broke. `onChange` hears every phase change on the way.
 */
export async function waitForDecision(options: {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly name: string;
  readonly timeoutMs: number | undefined;
  readonly onChange: (request: ApprovalRequest) => void;
}): Promise<WaitResult> {
  const api = new GreenlightApi(options.kubeConfig);
  const { namespace, name } = options;
  let lastPhase: string | undefined;
  let settle: (result: WaitResult) => void = () => undefined;
  const done = new Promise<WaitResult>((resolve) => (settle = resolve));
  const see = (request: ApprovalRequest): void => {
    if (request.status?.phase !== lastPhase) {
      lastPhase = request.status?.phase;
      options.onChange(request);
    }
    if (isFinal(request.status?.phase)) settle({ kind: 'decided', request });
  };

  const timers: NodeJS.Timeout[] = [];
  if (options.timeoutMs !== undefined)
    timers.push(
      setTimeout(() => {
        settle({ kind: 'timeout' });
      }, options.timeoutMs),
    );
  const poll = async (): Promise<void> => {
    see(await api.getRequest(namespace, name));
  };
  await poll();
  timers.push(
    setInterval(() => {
      poll().catch(() => undefined); // a failed poll is retried at the next tick
    }, POLL_MS),
  );
  const watch = await new Watch(options.kubeConfig).watch(
    GreenlightApi.path(APPROVAL_REQUEST_PLURAL, namespace),
    { fieldSelector: `metadata.name=${name}` },
    (_type, object: ApprovalRequest) => {
      see(object);
    },
    () => undefined,
  );
  try {
    return await done;
  } finally {
    for (const timer of timers) clearTimeout(timer);
    watch.abort();
  }
}

export function exitCodeFor(result: WaitResult): number {
  if (result.kind === 'timeout') return WaitExit.TimedOut;
  const phase = result.request.status?.phase;
  return phase === 'Approved' ? WaitExit.Approved : phase === 'Expired' ? WaitExit.Expired : WaitExit.Denied;
}
