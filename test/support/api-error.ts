import { ApiException } from '@kubernetes/client-node';

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
    if (error instanceof ApiException) return { code: error.code, message: statusMessage(error.body) };
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
