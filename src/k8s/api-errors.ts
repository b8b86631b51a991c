import { ApiException } from '@kubernetes/client-node';

/** The HTTP status of a failed API call, or undefined for network and other errors. */
export function statusCodeOf(error: unknown): number | undefined {
  if (error instanceof ApiException) return error.code;
  const code = (error as { statusCode?: unknown; code?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

export const isNotFound = (error: unknown): boolean => statusCodeOf(error) === 404;
export const isConflict = (error: unknown): boolean => statusCodeOf(error) === 409;
export const isForbidden = (error: unknown): boolean => statusCodeOf(error) === 403;

/**
 * The API server refused a field selector (400): the field is not selectable (a CRD without
 * selectableFields, or Kubernetes before 1.31).
 */
export const fieldSelectorRefused = (error: unknown): boolean => statusCodeOf(error) === 400;

/**
 * A write lost a race: someone changed the object since it was read (409), or a JSON patch's
 * resourceVersion `test` failed (422). Read again and retry.
 */
export function lostRace(error: unknown): boolean {
  const code = statusCodeOf(error);
  return code === 409 || (code === 422 && apiMessageOf(error).includes('test'));
}

/** The API server's own message (from its Status body) of a failed call, for logs and status. */
export function apiMessageOf(error: unknown): string {
  if (error instanceof ApiException) {
    const body: unknown = error.body;
    const parsed: unknown = typeof body === 'string' ? safeParse(body) : body;
    const message = (parsed as { message?: unknown } | null)?.message;
    if (typeof message === 'string') return message;
    return `HTTP ${error.code}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
