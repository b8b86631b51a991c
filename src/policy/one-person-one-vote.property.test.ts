import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Approval } from '../api/v1alpha1/approval-request.ts';
import { linkSlackUser, type SlackIdentityOptions } from '../slack/identity.ts';
import { combine } from './combine.ts';
import { personOf } from './person.ts';
import { tally } from './tally.ts';
import type { JudgedApproval, PolicyVerdict } from './verdict.ts';

// One person, one approver: people answer through every path (kubectl under differently cased
// usernames, Slack accounts linked by a SlackIdentity or by email, Slack accounts nobody linked), in
// any order and any number of times. Whatever they do, a quorum of N is reached only by N distinct
// people, never counting the requester unless the policy allows it. The oracle below knows who each
// answer really came from (the human), which the code under test never sees.

const HOME = { teamId: 'T0HOME', enterpriseId: undefined };
const POLICY = 'payments';

interface Human {
  readonly id: number;
  /** The Kubernetes username the API server authenticates, e.g. oidc:h0@example.com. */
  readonly username: string;
  readonly slackUser: string;
  /** The email on their Slack profile, in whatever case they typed it. */
  readonly slackEmail: string;
  readonly emailConfirmed: boolean;
  /** Whether a platform team linked their Slack account with a SlackIdentity. */
  readonly slackIdentity: boolean;
  readonly approver: boolean;
}

interface Answer {
  readonly human: number;
  readonly via: 'kubernetes' | 'slack';
  /** For kubectl answers: the username in another case (some authenticators differ only in case). */
  readonly upperCase: boolean;
  readonly decision: 'Approve' | 'Deny';
}

interface Scenario {
  readonly humans: readonly Human[];
  readonly options: SlackIdentityOptions;
  /** A human's index, or -1 for a pipeline's service account. */
  readonly requester: number;
  readonly required: number;
  readonly allowSelfApproval: boolean;
  readonly answers: readonly Answer[];
}

const scenario: fc.Arbitrary<Scenario> = fc
  .record({
    prefix: fc.constantFrom('', 'oidc:'),
    claim: fc.constantFrom<'email' | 'none'>('email', 'none'),
    people: fc.array(
      fc.record({
        upperEmail: fc.boolean(),
        emailConfirmed: fc.boolean(),
        slackIdentity: fc.boolean(),
        approver: fc.boolean(),
      }),
      { minLength: 1, maxLength: 5 },
    ),
    requester: fc.integer({ min: -1, max: 4 }),
    required: fc.integer({ min: 1, max: 4 }),
    allowSelfApproval: fc.boolean(),
    answers: fc.array(
      fc.record({
        human: fc.nat(),
        via: fc.constantFrom<'kubernetes' | 'slack'>('kubernetes', 'slack'),
        upperCase: fc.boolean(),
        decision: fc.constantFrom<'Approve' | 'Deny'>('Approve', 'Approve', 'Deny'),
      }),
      { maxLength: 12 },
    ),
  })
  .map(({ prefix, claim, people, requester, answers, ...rest }) => ({
    ...rest,
    options: { usernameClaim: claim, usernamePrefix: prefix, allowedTeams: [], allowGuests: false },
    humans: people.map((person, id) => ({
      id,
      username: `${prefix}h${id}@example.com`,
      slackUser: `U0H${id}`,
      slackEmail: person.upperEmail ? `H${id}@Example.COM` : `h${id}@example.com`,
      emailConfirmed: person.emailConfirmed,
      slackIdentity: person.slackIdentity,
      approver: person.approver,
    })),
    requester: requester < people.length ? requester : -1,
    answers: answers.map((answer) => ({ ...answer, human: answer.human % people.length })),
  }));

function humanOf(s: Scenario, answer: Answer): Human {
  const human = s.humans[answer.human];
  if (!human) throw new Error(`no human ${String(answer.human)}`);
  return human;
}

function requesterOf(s: Scenario): string {
  return s.humans[s.requester]?.username ?? 'system:serviceaccount:ci:deployer';
}

/** The entry the controller (Slack) or the API server (kubectl) would hold for an answer. */
function entryFor(s: Scenario, answer: Answer): Approval {
  const human = humanOf(s, answer);
  const base = { decision: answer.decision, at: '2026-11-26T10:00:00Z', policy: POLICY, policyGeneration: 1 };
  if (answer.via === 'kubernetes') {
    const username = answer.upperCase ? human.username.toUpperCase() : human.username;
    return { ...base, approver: username, via: 'kubernetes' };
  }
  const link = linkSlackUser({
    account: {
      id: human.slackUser,
      teamId: HOME.teamId,
      enterpriseId: undefined,
      deleted: false,
      bot: false,
      guest: false,
      email: human.slackEmail,
      emailConfirmed: human.emailConfirmed,
    },
    linkedUser: human.slackIdentity ? human.username : undefined,
    home: HOME,
    options: s.options,
  });
  return {
    ...base,
    approver: human.slackUser,
    via: 'slack',
    ...(link.linked ? { kubernetesUser: link.kubernetesUser } : {}),
  };
}

function judged(s: Scenario): JudgedApproval[] {
  return s.answers.map((answer, index) => {
    const approval = entryFor(s, answer);
    const human = humanOf(s, answer);
    return {
      approval,
      index,
      person: personOf(approval),
      approverOf: new Set(human.approver ? [POLICY] : []),
    };
  });
}

/** Whether the oracle can tell who a Slack answer came from: the same rule, stated on humans. */
function slackLinked(s: Scenario, human: Human): boolean {
  return human.slackIdentity || (s.options.usernameClaim === 'email' && human.emailConfirmed);
}

/** The first counting answer of each real person, in order: what the outcome must rest on. */
function oracle(s: Scenario): { approvers: Set<number>; deniedBy: number | undefined } {
  const seen = new Set<number>();
  const approvers = new Set<number>();
  let deniedBy: number | undefined;
  for (const answer of s.answers) {
    const human = humanOf(s, answer);
    if (answer.via === 'slack' && !slackLinked(s, human)) continue;
    if (!human.approver || seen.has(human.id)) continue;
    if (human.id === s.requester && !s.allowSelfApproval) continue;
    seen.add(human.id);
    if (answer.decision === 'Approve') approvers.add(human.id);
    else deniedBy ??= human.id;
  }
  return { approvers, deniedBy };
}

const verdict = (required: number): PolicyVerdict => ({
  policy: POLICY,
  mode: 'Enforce',
  decision: 'Escalate',
  message: 'needs people',
  requiredApprovals: required,
  trace: [],
});

describe('one person, one approver', () => {
  it('reaches a quorum of N only with N distinct people, never the requester unless allowed', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const answers = judged(s);
        const counted = tally(answers, {
          policy: POLICY,
          generation: 1,
          allowSelfApproval: s.allowSelfApproval,
          requester: requesterOf(s),
        });
        const answeredBy = (answer: JudgedApproval): number => s.answers[answer.index]?.human ?? -1;
        const countedHumans = counted.approvals.map(answeredBy);
        expect(new Set(countedHumans).size).toBe(countedHumans.length);
        if (!s.allowSelfApproval) expect(countedHumans).not.toContain(s.requester);

        const expected = oracle(s);
        expect(new Set(countedHumans)).toEqual(expected.approvers);
        const combined = combine([verdict(s.required)], () => counted);
        if (expected.deniedBy !== undefined) {
          expect(combined).toMatchObject({ kind: 'Decided', outcome: 'Denied' });
        } else if (expected.approvers.size >= s.required) {
          expect(combined).toMatchObject({ kind: 'Decided', outcome: 'Approved' });
        } else {
          expect(combined).toMatchObject({
            kind: 'Escalated',
            waitingOn: [{ policy: POLICY, approvals: expected.approvers.size, required: s.required }],
          });
        }
      }),
      { numRuns: 2000 },
    );
  });
});
