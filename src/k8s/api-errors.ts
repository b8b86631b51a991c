/**
 * The API server refused a call: its HTTP status (`code`, as client-node's ApiException names it) and
 * the Status body it sent. The message holds the status and the server's own message, never the
 * request's headers or credentials.
 */
export class KubeApiError extends Error {
  readonly code: number;
  /** The answer's body as sent (a Status object's JSON, usually). */
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: number, body: string, headers: Readonly<Record<string, string>> = {}) {
    const message = statusMessageOf(body);
    super(message === undefined ? `HTTP ${code}` : `HTTP ${code}: ${message}`);
    this.name = 'KubeApiError';
    this.code = code;
    this.body = body;
    this.headers = headers;
  }
}

/**
 * An API refusal: a KubeApiError, or client-node's ApiException (the CLI's commands other than the
 * controller still call through client-node), recognised by its shape so that this module does not
 * load client-node (docs/benchmarks.md, F12).
 */
function refusalOf(error: unknown): { readonly code: number; readonly body: unknown } | undefined {
  if (error instanceof KubeApiError) return error;
  if (!(error instanceof Error)) return undefined;
  const { code } = error as { code?: unknown };
  return typeof code === 'number' && 'body' in error ? { code, body: error.body } : undefined;
}

/** Whether the API server refused the call (any HTTP status), as opposed to a network or other failure. */
export const isApiRefusal = (error: unknown): boolean => refusalOf(error) !== undefined;

/** The HTTP status of a failed API call, or undefined for network and other errors. */
export function statusCodeOf(error: unknown): number | undefined {
  const refusal = refusalOf(error);
  if (refusal) return refusal.code;
  const code = (error as { statusCode?: unknown } | null)?.statusCode;
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
  const refusal = refusalOf(error);
  if (refusal) return statusMessageOf(refusal.body) ?? `HTTP ${refusal.code}`;
  return error instanceof Error ? error.message : String(error);
}

/** The `message` of a Status body (JSON text or parsed). */
function statusMessageOf(body: unknown): string | undefined {
  const parsed: unknown = typeof body === 'string' ? safeParse(body) : body;
  const message = (parsed as { message?: unknown } | null | undefined)?.message;
  return typeof message === 'string' ? message : undefined;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
