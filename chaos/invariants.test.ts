import { describe, expect, it } from 'vitest';
import {
  check,
  decisionWrites,
  firstDecisionAfter,
  holderAt,
  leaseVersions,
  type Facts,
} from './invariants.ts';

// The checker on small, hand-made histories: each property it enforces, shown failing once.

const leases = [
  { resourceVersion: 10, holder: 'a' },
  { resourceVersion: 20, holder: 'a' },
  { resourceVersion: 30, holder: 'b' },
];

function facts(overrides: Partial<Facts> = {}): Facts {
  return {
    created: new Map([
      ['small', { phase: 'Approved', by: 'policy' }],
      ['large', { phase: 'Denied', by: 'policy' }],
      ['asked', { phase: 'Approved', by: 'person' }],
    ]),
    finals: new Map([
      ['small', { uid: 'u1', phase: 'Approved' }],
      ['large', { uid: 'u2', phase: 'Denied' }],
      ['asked', { uid: 'u3', phase: 'Approved' }],
    ]),
    phases: new Map([
      ['small', ['Pending', 'Approved']],
      ['large', ['Pending', 'Denied']],
      ['asked', ['Pending', 'Escalated', 'Approved']],
    ]),
    writes: [
      { name: 'small', writer: 'a', resourceVersion: 15, phase: 'Approved', at: 15000 },
      { name: 'large', writer: 'a', resourceVersion: 25, phase: 'Denied', at: 25000 },
      { name: 'asked', writer: 'b', resourceVersion: 33, phase: 'Escalated', at: 33000 },
      { name: 'asked', writer: 'b', resourceVersion: 35, phase: 'Approved', at: 35000 },
    ],
    leases,
    slack: [
      { channel: 'C1', ts: '1.1', keys: ['u3/tracking', 'u3/tracking'], buttons: false },
      { channel: 'C2', ts: '1.2', keys: ['u2/announce/Denied/#workflow-updates'], buttons: false },
    ],
    webhooks: [{ id: 'u2.Denied', status: 204, verified: true }],
    metrics: { Approved: 2, Denied: 1 },
    crashes: [],
    ...overrides,
  };
}

describe('the chaos invariant checker', () => {
  it('passes a history where everything went right', () => {
    expect(check(facts())).toMatchObject({
      requests: 3,
      decidedCorrectly: 3,
      lost: 0,
      duplicated: 0,
      contradictory: 0,
      problems: [],
    });
  });

  it('merges what the audit log and a watch saw of the lease, each version once, in order', () => {
    // The watch listed again after etcd restarted: it saw a at 10 and then only a's return at 40.
    const audit = [
      { resourceVersion: 30, holder: 'b' },
      { resourceVersion: 10, holder: 'a' },
      { resourceVersion: 40, holder: 'a' },
    ];
    const watch = [
      { resourceVersion: 10, holder: 'a' },
      { resourceVersion: 40, holder: 'a' },
      { resourceVersion: 52, holder: 'a' },
    ];
    const merged = leaseVersions(audit, watch);
    expect(merged.map((lease) => lease.resourceVersion)).toEqual([10, 30, 40, 52]);
    expect(holderAt(merged, 35)).toBe('b');
    expect(holderAt(watch, 35)).toBe('a');
  });

  it('knows who held the lease at any resourceVersion', () => {
    expect(holderAt(leases, 5)).toBeUndefined();
    expect(holderAt(leases, 11)).toBe('a');
    expect(holderAt(leases, 30)).toBe('a');
    expect(holderAt(leases, 31)).toBe('b');
  });

  it('counts a request never decided as lost', () => {
    const verdict = check(
      facts({ finals: new Map([...facts().finals, ['small', { uid: 'u1', phase: 'Pending' }]]) }),
    );
    expect(verdict).toMatchObject({ lost: 1, decidedCorrectly: 2 });
    expect(verdict.problems).toContain('lost: small: never decided (Pending)');
  });

  it('counts the wrong outcome, a changed final phase and a decision by a non-leader as contradictory', () => {
    const wrong = check(
      facts({ finals: new Map([...facts().finals, ['small', { uid: 'u1', phase: 'Denied' }]]) }),
    );
    expect(wrong.contradictory).toBe(1);
    const flipped = check(
      facts({
        phases: new Map([...facts().phases, ['small', ['Pending', 'Approved', 'Denied', 'Approved']]]),
      }),
    );
    expect(flipped.contradictory).toBe(1);
    const stale = check(
      facts({
        // The old leader's late write is the decision: the leader's own write of it never happened.
        writes: [
          ...facts().writes.filter((write) => write.name !== 'small'),
          { name: 'small', writer: 'a', resourceVersion: 31, phase: 'Approved', at: 31000 },
        ],
      }),
    );
    expect(stale.contradictory).toBe(1);
    expect(stale.problems[0]).toMatch(/decided \(Approved\) by a at version 31 while b held the lease/);
  });

  it('attributes each decision to the first write that made the request final, whoever wrote the rest', () => {
    expect(check(facts())).toMatchObject({ attributed: 3, unattributed: 0 });
    // A standby records a click (any replica may); a later write by the old leader after the decision
    // is not the decision.
    const more = [
      ...facts().writes,
      { name: 'asked', writer: 'a', resourceVersion: 34, phase: 'Escalated', at: 34000 },
      { name: 'asked', writer: 'b', resourceVersion: 36, phase: 'Approved', at: 36000 },
    ];
    expect(check(facts({ writes: more }))).toMatchObject({ attributed: 3, contradictory: 0 });
    const onlyEscalated = facts().writes.filter((write) => write.phase !== 'Approved');
    expect(check(facts({ writes: onlyEscalated }))).toMatchObject({
      attributed: 1,
      unattributed: 2,
      decidedCorrectly: 3,
    });
  });

  it('counts a second tracking message or announcement as duplicated, a missing one or an unfinished message as lost', () => {
    const [tracking, announcement] = facts().slack ?? [];
    if (!tracking || !announcement) throw new Error('fixture');
    expect(check(facts({ slack: [tracking, announcement, { ...announcement, ts: '1.3' }] })).duplicated).toBe(
      1,
    );
    expect(check(facts({ slack: [tracking, tracking, announcement] })).duplicated).toBe(1);
    expect(check(facts({ slack: [tracking] })).lost).toBe(1);
    expect(check(facts({ slack: [{ ...tracking, buttons: true }, announcement] })).lost).toBe(1);
  });

  it('counts a denial announced before its people were asked as contradictory (Slack out of order)', () => {
    const asked = facts({
      created: new Map([['asked', { phase: 'Denied', by: 'person' }]]),
      finals: new Map([['asked', { uid: 'u3', phase: 'Denied' }]]),
      phases: new Map([['asked', ['Pending', 'Escalated', 'Denied']]]),
      writes: [{ name: 'asked', writer: 'b', resourceVersion: 35, phase: 'Denied', at: 35000 }],
      webhooks: [{ id: 'u3.Denied', status: 204, verified: true }],
      metrics: { Approved: 0, Denied: 1 },
    });
    const tracking = { channel: 'C1', ts: '5.000100', keys: ['u3/tracking'], buttons: false };
    const announcement = { channel: 'C2', ts: '5.000200', keys: ['u3/announce/Denied/C2'], buttons: false };
    expect(check({ ...asked, slack: [tracking, announcement] })).toMatchObject({
      decidedCorrectly: 1,
      contradictory: 0,
    });
    const early = check({ ...asked, slack: [tracking, { ...announcement, ts: '5.000050' }] });
    expect(early.contradictory).toBe(1);
    expect(early.problems).toEqual(['slack-order: asked: its denial was announced before people were asked']);
  });

  it('needs one verified, accepted webhook delivery per denial, and counts the extra ones apart', () => {
    expect(check(facts({ webhooks: [{ id: 'u2.Denied', status: 503, verified: true }] })).lost).toBe(1);
    expect(check(facts({ webhooks: [{ id: 'u2.Denied', status: 204, verified: false }] })).lost).toBe(1);
    const twice = check(
      facts({ webhooks: [...(facts().webhooks ?? []), { id: 'u2.Denied', status: 204, verified: true }] }),
    );
    expect(twice).toMatchObject({ duplicated: 0, webhookRedeliveries: 1 });
  });

  it('finds when decisions resumed after a fault: the first decision written after it', () => {
    const decisions = decisionWrites(facts().writes);
    expect([...decisions.values()].map((write) => write.resourceVersion)).toEqual([15, 25, 35]);
    expect(firstDecisionAfter(decisions.values(), 20_000)).toBe(25_000);
    expect(firstDecisionAfter(decisions.values(), 36_000)).toBeUndefined();
  });

  it('reports metrics that disagree with the objects, and crashes', () => {
    expect(check(facts({ metrics: { Approved: 1, Denied: 1 } })).problems).toEqual([
      'metrics: greenlight_decisions_total says 1 Approved, the objects 2',
    ]);
    expect(check(facts({ crashes: ['replica 0 ended by itself: exit 1'] })).problems).toEqual([
      'crash: replica 0 ended by itself: exit 1',
    ]);
  });
});
