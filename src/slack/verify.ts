import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack refuses requests older than this; so do we (replays of captured requests). */
export const MAX_AGE_SECONDS = 5 * 60;

export const Verdict = { Ok: 'ok', BadSignature: 'bad_signature', Stale: 'stale' } as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

/** `v0=` and the HMAC-SHA256 in lower-case hex, the one spelling Slack sends. */
const SIGNATURE = /^v0=[0-9a-f]{64}$/;

/**
 * Checks Slack's request signature: `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<raw body>` with the
 * signing secret, compared in constant time; a timestamp more than five minutes away is stale.
 */
export function verifySlackSignature(options: {
  readonly signingSecret: string;
  readonly timestamp: string | undefined;
  readonly signature: string | undefined;
  readonly rawBody: Buffer;
  readonly nowSeconds: number;
}): Verdict {
  const { timestamp, signature } = options;
  const seconds = Number(timestamp);
  if (!timestamp || !/^[0-9]+$/.test(timestamp) || !Number.isSafeInteger(seconds))
    return Verdict.BadSignature;
  if (Math.abs(options.nowSeconds - seconds) > MAX_AGE_SECONDS) return Verdict.Stale;
  // Exactly as Slack writes it: Buffer.from(…, 'hex') would read upper case, an odd digit or trailing
  // junk as the same MAC, and each such spelling would pass the replay guard as a new signature.
  if (signature === undefined || !SIGNATURE.test(signature)) return Verdict.BadSignature;
  const theirs = Buffer.from(signature.slice(3), 'hex');
  const ours = createHmac('sha256', options.signingSecret)
    .update(`v0:${timestamp}:`)
    .update(options.rawBody)
    .digest();
  return theirs.length === ours.length && timingSafeEqual(theirs, ours) ? Verdict.Ok : Verdict.BadSignature;
}

/**
 * Remembers the signatures accepted in the last five minutes, so a captured request replayed within
 * its validity window is refused. Older entries need no memory: their timestamps are stale anyway.
 */
export class ReplayGuard {
  readonly #seen = new Map<string, number>();

  /** True the first time a signature is seen; false for a replay. */
  firstTime(signature: string, nowSeconds: number): boolean {
    for (const [key, until] of this.#seen) {
      if (until >= nowSeconds) break; // entries are in insertion (≈ time) order
      this.#seen.delete(key);
    }
    if (this.#seen.has(signature)) return false;
    this.#seen.set(signature, nowSeconds + 2 * MAX_AGE_SECONDS);
    return true;
  }
}
