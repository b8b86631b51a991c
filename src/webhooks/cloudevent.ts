import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import {
  APPROVAL_REQUEST_PLURAL,
  type ApprovalRequest,
  type WebhookOutcome,
} from '../api/v1alpha1/approval-request.ts';
import { API_VERSION } from '../api/v1alpha1/schema.ts';

/**
 * A decision webhook's message, built from the request alone (pure): a CloudEvents 1.0 event in its
 * JSON form, signed as the Standard Webhooks specification says. The same request and outcome always
 * give the same id and body, so every retry, from any controller, sends the same message.
 */

export const CLOUDEVENT_CONTENT_TYPE = 'application/cloudevents+json; charset=utf-8';

/** `webhook-id`: the request's uid and the outcome, the same on every retry. */
export function webhookId(uid: string, outcome: WebhookOutcome): string {
  return `${uid}.${outcome}`;
}

/** When the outcome happened: the decision's time, or when the request went to people. */
export function outcomeTime(request: ApprovalRequest, outcome: WebhookOutcome): string | undefined {
  if (outcome === 'Escalated')
    return request.status?.conditions?.find((c) => c.type === 'Escalated' && c.status === 'True')
      ?.lastTransitionTime;
  return request.status?.decision?.decidedAt;
}

export interface CloudEvent {
  readonly specversion: '1.0';
  readonly id: string;
  readonly type: string;
  readonly source: string;
  readonly subject: string;
  readonly time?: string;
  readonly datacontenttype: 'application/json';
  readonly data: {
    readonly metadata: { readonly name: string; readonly namespace: string; readonly uid: string };
    readonly spec: ApprovalRequest['spec'];
    readonly status: {
      readonly phase: WebhookOutcome;
      readonly decision?: NonNullable<ApprovalRequest['status']>['decision'];
    };
  };
}

export function cloudEvent(request: ApprovalRequest, outcome: WebhookOutcome): CloudEvent {
  const name = request.metadata.name ?? '';
  const namespace = request.metadata.namespace ?? '';
  const uid = request.metadata.uid ?? '';
  const time = outcomeTime(request, outcome);
  const decision = outcome === 'Escalated' ? undefined : request.status?.decision;
  return {
    specversion: '1.0',
    id: webhookId(uid, outcome),
    type: `dev.greenlight.approvalrequest.${outcome.toLowerCase()}`,
    source: `/apis/${API_VERSION}/namespaces/${namespace}/${APPROVAL_REQUEST_PLURAL}/${name}`,
    subject: name,
    ...(time === undefined ? {} : { time }),
    datacontenttype: 'application/json',
    data: {
      metadata: { name, namespace, uid },
      spec: request.spec,
      status: { phase: outcome, ...(decision === undefined ? {} : { decision }) },
    },
  };
}

/** Standard Webhooks secrets: `whsec_` and base64, of 24 to 64 random bytes. */
export const SECRET_PREFIX = 'whsec_';
export const MIN_SECRET_BYTES = 24;

/**
 * The HMAC key of a signing secret, or why the value cannot be one (the value itself is never said). A
 * KeyObject: an HMAC made with one is about five times cheaper than with the key's bytes.
 */
export function signingKey(secret: string): { readonly key: KeyObject } | { readonly problem: string } {
  const encoded = (secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret).trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) {
    return { problem: 'is not base64 (Standard Webhooks secrets are whsec_ followed by base64)' };
  }
  const key = Buffer.from(encoded, 'base64');
  if (key.length < MIN_SECRET_BYTES) {
    return {
      problem: `is ${key.length} bytes; a signing secret needs at least ${MIN_SECRET_BYTES} random bytes`,
    };
  }
  return { key: createSecretKey(key) };
}

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`. */
export function signature(key: KeyObject, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', key).update(`${id}.${timestampSeconds}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

/** The headers of one attempt: the id stays, the timestamp and signature are the attempt's own. */
export function signedHeaders(
  key: KeyObject,
  id: string,
  body: string,
  timestampSeconds: number,
): Readonly<Record<string, string>> {
  return {
    'content-type': CLOUDEVENT_CONTENT_TYPE,
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': signature(key, id, timestampSeconds, body),
  };
}
