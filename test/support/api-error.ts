import { isApiRefusal, statusCodeOf } from '../../src/k8s/api-errors.ts';

export interface RefusedCall {
  readonly code: number;
  /** The Status message the API server sent back. */
  readonly message: string;
}

/** Awaits a call that must be refused and returns the HTTP code and the server's message. */
export async function refusal(call: Promise<unknown>): Promise<RefusedCall> {
  try {
    await call;
  } catch (error) {
    // Greenlight's KubeApiError, or client-node's ApiException (calls the tests make through client-node).
    if (isApiRefusal(error))
      return { code: statusCodeOf(error) ?? 0, message: statusMessage((error as { body?: unknown }).body) };
    throw error;
  }
  throw new Error('the API server accepted a call that should have been refused');
}

function statusMessage(body: unknown): string {
  if (typeof body === 'string') {
    try {
      return statusMessage(JSON.parse(body));
    } catch {
      return body;
    }
  }
  if (body && typeof body === 'object' && 'message' in body && typeof body.message === 'string')
    return body.message;
  return JSON.stringify(body);
}
