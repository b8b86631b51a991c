/**
 * Slack's `chat.postMessage` limit: "generally one message per second per channel", with short bursts
 * allowed. Modelled as a token bucket per channel: `burst` tokens, refilled at `perChannelPerSecond`.
 */
export interface RateLimit {
  readonly perChannelPerSecond: number;
  readonly burst: number;
}

export const DEFAULT_RATE_LIMIT: RateLimit = { perChannelPerSecond: 1, burst: 3 };

export interface Bucket {
  readonly tokens: number;
  readonly atMs: number;
}

export type Admission =
  | { readonly allowed: true; readonly bucket: Bucket }
  | { readonly allowed: false; readonly bucket: Bucket; readonly retryAfterSeconds: number };

export function fullBucket(limit: RateLimit, nowMs: number): Bucket {
  return { tokens: limit.burst, atMs: nowMs };
}

function refill(bucket: Bucket, limit: RateLimit, nowMs: number): Bucket {
  const earned = ((nowMs - bucket.atMs) / 1000) * limit.perChannelPerSecond;
  return { tokens: Math.min(limit.burst, bucket.tokens + earned), atMs: nowMs };
}

/** Takes one token, or says how many whole seconds (at least 1) until one is back: `Retry-After`. */
export function admit(bucket: Bucket, limit: RateLimit, nowMs: number): Admission {
  const current = refill(bucket, limit, nowMs);
  if (current.tokens >= 1) return { allowed: true, bucket: { ...current, tokens: current.tokens - 1 } };
  const retryAfterSeconds = Math.max(1, Math.ceil((1 - current.tokens) / limit.perChannelPerSecond));
  return { allowed: false, bucket: current, retryAfterSeconds };
}

/** One bucket per channel, plus how many 429s each channel got. */
export class ChannelRateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #rejections = new Map<string, number>();
  readonly #limit: RateLimit;

  constructor(limit: RateLimit) {
    this.#limit = limit;
  }

  /** `undefined` when allowed, otherwise the `Retry-After` seconds. */
  take(channel: string, nowMs: number): number | undefined {
    const admission = admit(this.#buckets.get(channel) ?? fullBucket(this.#limit, nowMs), this.#limit, nowMs);
    this.#buckets.set(channel, admission.bucket);
    return admission.allowed ? undefined : admission.retryAfterSeconds;
  }

  countRejection(channel: string): void {
    this.#rejections.set(channel, (this.#rejections.get(channel) ?? 0) + 1);
  }

  rejections(channel?: string): number {
    if (channel !== undefined) return this.#rejections.get(channel) ?? 0;
    let total = 0;
    for (const count of this.#rejections.values()) total += count;
    return total;
  }

  resetBuckets(): void {
    this.#buckets.clear();
  }
}
