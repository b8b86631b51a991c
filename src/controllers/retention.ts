import {
  APPROVAL_REQUEST_PLURAL,
  FINAL_PHASES,
  isFinal,
  type ApprovalRequest,
} from '../api/v1alpha1/approval-request.ts';
import { apiMessageOf, fieldSelectorRefused } from '../k8s/api-errors.ts';
import type { GreenlightApi } from '../k8s/greenlight-api.ts';
import { pages } from '../k8s/informer.ts';
import type { Logger } from '../observability/logger.ts';

/** How long a decided request is kept, and how gently old ones are deleted. */
export interface RetentionOptions {
  /** Decided requests older than this (since their decision) are deleted. */
  readonly retainMs: number;
  /** Deletions in a row before a pause: the API server and etcd are never flooded. */
  readonly batchSize?: number;
  readonly pauseMs?: number;
  /** How often the history is swept. */
  readonly everyMs?: number;
}

export const RETENTION_DEFAULTS = { batchSize: 20, pauseMs: 1_000, everyMs: 10 * 60_000 } as const;

/**
 * Whether a request is past its retention: final, and decided longer ago than `retainMs`. An undecided
 * request never is, however old. Pure.
 */
export function pastRetention(request: ApprovalRequest, now: Date, retainMs: number): boolean {
  if (!isFinal(request.status?.phase)) return false;
  const decidedAt = Date.parse(request.status?.decision?.decidedAt ?? '');
  return Number.isFinite(decidedAt) && now.getTime() - decidedAt > retainMs;
}

export interface RetentionDeps {
  readonly api: GreenlightApi;
  /** The namespace the controller watches; all when undefined. */
  readonly namespace: string | undefined;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly onDeleted: () => void;
  /** Waits between batches and between sweeps; resolves early (false) once stopped. */
  readonly pause: (ms: number, signal: AbortSignal) => Promise<void>;
}

/**
 * Deletes decided requests older than the retention, opt-in (`--retain-decided`), on the leader only:
 * reads the decided requests page by page (one final phase at a time, by field selector), and deletes
 * each one past retention only if it is still exactly what was read, `batchSize` at a time with a
 * pause between batches. What stays: the Events, logs, Slack messages and webhooks of each decision.
 */
export async function runRetention(
  options: RetentionOptions,
  deps: RetentionDeps,
  signal: AbortSignal,
): Promise<void> {
  const settings = { ...RETENTION_DEFAULTS, ...options };
  while (!signal.aborted) {
    try {
      const deleted = await sweep(settings, deps, signal);
      if (deleted > 0) deps.logger.info('Deleted decided requests past their retention', { deleted });
    } catch (error) {
      deps.logger.warn('Could not sweep decided requests; trying again later', {
        error: apiMessageOf(error),
      });
    }
    await deps.pause(settings.everyMs, signal);
  }
}

async function sweep(
  settings: Required<RetentionOptions>,
  deps: RetentionDeps,
  signal: AbortSignal,
): Promise<number> {
  let deleted = 0;
  let inBatch = 0;
  for await (const request of decidedRequests(deps)) {
    if (!pastRetention(request, deps.now(), settings.retainMs)) continue;
    if (inBatch === settings.batchSize) {
      await deps.pause(settings.pauseMs, signal);
      inBatch = 0;
    }
    if (signal.aborted) break;
    inBatch += 1;
    if (await deps.api.deleteRequestAsRead(request)) {
      deleted += 1;
      deps.onDeleted();
    }
  }
  return deleted;
}

/** Decided requests, page by page; every request on an API server that cannot select by phase. */
async function* decidedRequests(deps: RetentionDeps): AsyncGenerator<ApprovalRequest> {
  const read = (fieldSelector: string | undefined) =>
    pages<ApprovalRequest>((token) =>
      deps.api.listPage(APPROVAL_REQUEST_PLURAL, deps.namespace, token, fieldSelector),
    );
  try {
    for (const phase of FINAL_PHASES) {
      for await (const page of read(`status.phase=${phase}`)) yield* page.items;
    }
  } catch (error) {
    if (!fieldSelectorRefused(error)) throw error;
    for await (const page of read(undefined)) yield* page.items;
  }
}
