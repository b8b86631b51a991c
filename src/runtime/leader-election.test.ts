import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import {
  claimedSpec,
  epochMsOf,
  heldByAnother,
  LeaderElector,
  leaseRecordOf,
  microTime,
  observe,
  releasedSpec,
  type LeaseRecord,
} from './leader-election.ts';

const at = (iso: string): number => Date.parse(iso);

const heldByA: LeaseRecord = {
  holderIdentity: 'greenlight-a',
  leaseDurationSeconds: 15,
  acquireTimeMs: at('2026-01-02T15:00:00.000Z'),
  renewTimeMs: at('2026-01-02T15:04:05.000Z'),
  leaseTransitions: 3,
};

describe('MicroTime', () => {
  it('serializes with exactly six fractional digits, as the API server requires', () => {
    const time = microTime(at('2006-01-02T15:04:05.123Z'));
    expect(JSON.stringify({ renewTime: time })).toBe('{"renewTime":"2006-01-02T15:04:05.123000Z"}');
    expect(JSON.stringify({ renewTime: new Date(time.getTime()) })).toBe(
      '{"renewTime":"2006-01-02T15:04:05.123Z"}',
    );
  });

  it('reads the strings client-node hands back, microseconds and all', () => {
    expect(epochMsOf('2006-01-02T15:04:05.123456Z')).toBe(at('2006-01-02T15:04:05.123Z'));
    expect(epochMsOf(new Date(1000))).toBe(1000);
    expect(epochMsOf('not a time')).toBeUndefined();
    expect(epochMsOf(undefined)).toBeUndefined();
  });
});

describe('leaseRecordOf', () => {
  it('reads a lease spec as the server sent it', () => {
    const spec = JSON.parse(
      '{"holderIdentity":"greenlight-a","leaseDurationSeconds":15,"acquireTime":"2026-01-02T15:00:00.000000Z",' +
        '"renewTime":"2026-01-02T15:04:05.000000Z","leaseTransitions":3}',
    ) as Parameters<typeof leaseRecordOf>[0];
    expect(leaseRecordOf(spec)).toEqual(heldByA);
  });

  it('reads a missing spec as a free lease', () => {
    expect(leaseRecordOf(undefined)).toEqual({
      holderIdentity: '',
      leaseDurationSeconds: 0,
      acquireTimeMs: undefined,
      renewTimeMs: undefined,
      leaseTransitions: 0,
    });
  });
});

describe('expiry, judged on our own clock', () => {
  it('keeps the first observation while the lease does not change', () => {
    const first = observe(undefined, heldByA, 1_000);
    expect(observe(first, { ...heldByA }, 9_000)).toBe(first);
    const renewed = { ...heldByA, renewTimeMs: (heldByA.renewTimeMs ?? 0) + 2_000 };
    expect(observe(first, renewed, 9_000)).toEqual({ record: renewed, observedAt: 9_000 });
  });

  it('counts the lease as held for its duration after we saw it change', () => {
    const observed = observe(undefined, heldByA, 1_000);
    expect(heldByAnother(observed, 'greenlight-b', 1_000)).toBe(true);
    expect(heldByAnother(observed, 'greenlight-b', 15_999)).toBe(true);
    expect(heldByAnother(observed, 'greenlight-b', 16_000)).toBe(false);
  });

  it('does not let a holder clock that is behind ours make a live lease look expired', () => {
    // The holder wrote renewTime an hour "ago" by our wall clock, but we just saw it change.
    const skewed = { ...heldByA, renewTimeMs: Date.now() - 3_600_000 };
    expect(heldByAnother(observe(undefined, skewed, 50_000), 'greenlight-b', 50_001)).toBe(true);
  });

  it('does not let a holder clock that is ahead of ours keep a dead lease alive', () => {
    const fromTheFuture = { ...heldByA, renewTimeMs: Date.now() + 3_600_000 };
    expect(heldByAnother(observe(undefined, fromTheFuture, 0), 'greenlight-b', 15_000)).toBe(false);
  });

  it('treats a released lease as free at once, and our own lease as not held by another', () => {
    const released = { ...heldByA, holderIdentity: '', leaseDurationSeconds: 1 };
    expect(heldByAnother(observe(undefined, released, 0), 'greenlight-b', 0)).toBe(false);
    expect(heldByAnother(observe(undefined, heldByA, 0), 'greenlight-a', 0)).toBe(false);
  });
});

describe('the specs we write', () => {
  const now = at('2026-01-02T15:05:00.250Z');
  const serialized = (spec: object): unknown => JSON.parse(JSON.stringify(spec));

  it('creates a lease with no transitions', () => {
    expect(serialized(claimedSpec(undefined, 'greenlight-a', 15, now))).toEqual({
      holderIdentity: 'greenlight-a',
      leaseDurationSeconds: 15,
      acquireTime: '2026-01-02T15:05:00.250000Z',
      renewTime: '2026-01-02T15:05:00.250000Z',
      leaseTransitions: 0,
    });
  });

  it('renews our lease keeping its acquire time and transitions', () => {
    expect(serialized(claimedSpec(heldByA, 'greenlight-a', 15, now))).toEqual({
      holderIdentity: 'greenlight-a',
      leaseDurationSeconds: 15,
      acquireTime: '2026-01-02T15:00:00.000000Z',
      renewTime: '2026-01-02T15:05:00.250000Z',
      leaseTransitions: 3,
    });
  });

  it('counts a transition when taking over from another holder or from a released lease', () => {
    expect(claimedSpec(heldByA, 'greenlight-b', 15, now)).toMatchObject({
      holderIdentity: 'greenlight-b',
      leaseTransitions: 4,
      acquireTime: microTime(now),
    });
    const released = { ...heldByA, holderIdentity: '' };
    expect(claimedSpec(released, 'greenlight-b', 15, now).leaseTransitions).toBe(4);
  });

  it('releases by clearing the holder with a one-second duration', () => {
    expect(serialized(releasedSpec(heldByA, now))).toEqual({
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: '2026-01-02T15:05:00.250000Z',
      renewTime: '2026-01-02T15:05:00.250000Z',
      leaseTransitions: 3,
    });
  });
});

describe('LeaderElector options', () => {
  const valid = {
    kubeConfig: new KubeConfig(),
    namespace: 'greenlight-system',
    name: 'greenlight',
    identity: 'greenlight-a',
    onStartedLeading: () => undefined,
    onStoppedLeading: () => undefined,
  };

  it.each([
    ['a renew deadline as long as the lease', { leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }],
    ['a retry period close to the renew deadline', { renewDeadlineMs: 2_000, retryPeriodMs: 1_800 }],
    ['no retry period', { retryPeriodMs: 0 }],
    ['an empty identity', { identity: '' }],
  ])('refuses %s', (_, overrides) => {
    expect(() => new LeaderElector({ ...valid, ...overrides })).toThrow(ConfigError);
  });
});
