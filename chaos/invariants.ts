/**
 * The invariant checker: one pure function over everything a chaos scenario observed — the requests
 * as the API server holds them at the end, every phase a watch saw, every status write the API
 * server's audit log attributes to a controller process, the lease's holders, Slack's messages (the emulator's log), the webhook receiver's log, the controllers'
 * metrics and exits — and a verdict per request: decided correctly, lost, duplicated or
 * contradictory (a request can be more than one of the last three).
 */

export interface Expected {
  readonly phase: 'Approved' | 'Denied';
  readonly by: 'policy' | 'person';
}

export interface FinalRequest {
  readonly uid: string;
  readonly phase: string;
  readonly decidedBy?: string;
}

/** A write to a request's status, as the audit log records it: which process, and what it left. */
export interface StatusWrite {
  readonly name: string;
  /** The controller process's leader-election identity. */
  readonly writer: string;
  /** The resourceVersion the write gave the request. */
  readonly resourceVersion: number;
  /** The request's phase after the write. */
  readonly phase: string;
  /** When the API server completed the write (epoch milliseconds, its clock: this machine's). */
  readonly at: number;
}

export interface SlackMessage {
  readonly channel: string;
  readonly ts: string;
  /** Every intent key in the message's metadata, over all its versions. */
  readonly keys: readonly string[];
  /** Whether its current version still shows Approve/Deny buttons. */
  readonly buttons: boolean;
}

/** One version of the leader-election lease: the resourceVersion it was written at, and its holder. */
export interface LeaseVersion {
  readonly resourceVersion: number;
  readonly holder: string;
}

export interface WebhookDelivery {
  readonly id: string;
  readonly status: number;
  readonly verified: boolean;
}

export interface Facts {
  readonly created: ReadonlyMap<string, Expected>;
  readonly finals: ReadonlyMap<string, FinalRequest>;
  /** The phases each request was seen in, in order. */
  readonly phases: ReadonlyMap<string, readonly string[]>;
  readonly writes: readonly StatusWrite[];
  /** Lease versions as every witness saw them, in any order, repeats allowed (`leaseVersions` merges). */
  readonly leases: readonly LeaseVersion[];
  /** Undefined when the scenario does not use Slack. */
  readonly slack?: readonly SlackMessage[];
  /** Undefined when the scenario does not use webhooks. */
  readonly webhooks?: readonly WebhookDelivery[];
  /**
   * Final decisions counted by the controllers' metrics (summed over the live processes), when no
   * process was killed or restarted (a killed process takes its counters with it).
   */
  readonly metrics?: { readonly Approved: number; readonly Denied: number };
  /** Controller processes that ended without being told to, and not because they lost the lease. */
  readonly crashes: readonly string[];
}

export interface Verdict {
  readonly requests: number;
  readonly decidedCorrectly: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly contradictory: number;
  /** Webhook deliveries beyond the first per webhook-id (allowed: at least once, after a fault). */
  readonly webhookRedeliveries: number;
  /** Decisions whose write the audit log shows, checked against the lease holder. */
  readonly attributed: number;
  /** Decided requests whose deciding write is not in the audit log, so not attributed to a process. */
  readonly unattributed: number;
  /** What went wrong, one line each (the first few per kind). */
  readonly problems: readonly string[];
}

const FINAL = new Set(['Approved', 'Denied', 'Expired']);
const MAX_PROBLEMS_PER_KIND = 5;

/** Each request's decision: the first write (by resourceVersion) that left it in a final phase. */
export function decisionWrites(writes: readonly StatusWrite[]): Map<string, StatusWrite> {
  const decisions = new Map<string, StatusWrite>();
  for (const write of writes) {
    if (!FINAL.has(write.phase)) continue;
    const known = decisions.get(write.name);
    if (known === undefined || write.resourceVersion < known.resourceVersion)
      decisions.set(write.name, write);
  }
  return decisions;
}

/** When the first decision after `from` was written (epoch milliseconds), if any was. */
export function firstDecisionAfter(decisions: Iterable<StatusWrite>, from: number): number | undefined {
  let first: number | undefined;
  for (const decision of decisions) {
    if (decision.at >= from && (first === undefined || decision.at < first)) first = decision.at;
  }
  return first;
}

/**
 * The lease's versions from every witness (the audit log, a watch), each once, in resourceVersion
 * order: a witness may miss some (a watch that lists again after 410 Gone sees only the latest).
 */
export function leaseVersions(...witnesses: readonly (readonly LeaseVersion[])[]): LeaseVersion[] {
  const byVersion = new Map<number, LeaseVersion>();
  for (const lease of witnesses.flat()) byVersion.set(lease.resourceVersion, lease);
  return [...byVersion.values()].sort((a, b) => a.resourceVersion - b.resourceVersion);
}

/** The holder of the lease as of resourceVersion `rv`: the last version written before it. */
export function holderAt(leases: Facts['leases'], rv: number): string | undefined {
  let holder: string | undefined;
  for (const lease of leases) {
    if (lease.resourceVersion >= rv) break;
    holder = lease.holder;
  }
  return holder;
}

export function check(facts: Facts): Verdict {
  const problems = new Map<string, string[]>();
  const note = (kind: string, line: string): void => {
    const lines = problems.get(kind) ?? [];
    if (lines.length < MAX_PROBLEMS_PER_KIND) lines.push(line);
    else if (lines.length === MAX_PROBLEMS_PER_KIND) lines.push('…');
    problems.set(kind, lines);
  };
  const leases = leaseVersions(facts.leases);
  const decisions = decisionWrites(facts.writes);
  // Keys indexed by what they are about: `<uid>/tracking`, and `<uid>/announce/Denied` for any channel.
  const slackByKey = new Map<string, SlackMessage[]>();
  for (const message of facts.slack ?? []) {
    for (const key of new Set(message.keys.map(withoutChannel))) push(slackByKey, key, message);
  }
  const deliveriesById = groupBy(facts.webhooks ?? [], (delivery) => delivery.id);

  let decidedCorrectly = 0;
  let lost = 0;
  let duplicated = 0;
  let contradictory = 0;
  let unattributed = 0;
  let attributed = 0;
  for (const [name, expected] of facts.created) {
    const final = facts.finals.get(name);
    let isLost = false;
    let isDuplicated = false;
    let isContradictory = false;
    if (final === undefined || !FINAL.has(final.phase)) {
      isLost = true;
      note('lost', `${name}: never decided (${final?.phase ?? 'gone'})`);
    } else if (final.phase !== expected.phase) {
      isContradictory = true;
      note('contradictory', `${name}: ${final.phase}, the policy says ${expected.phase}`);
    }
    const phases = facts.phases.get(name) ?? [];
    const firstFinal = phases.findIndex((phase) => FINAL.has(phase));
    if (firstFinal >= 0 && phases.slice(firstFinal).some((phase) => phase !== phases[firstFinal])) {
      isContradictory = true;
      note('contradictory', `${name}: a final phase changed (${phases.join(' → ')})`);
    }
    // Only the decision is checked: other status writes may come from any replica (a standby records
    // a person's click in status.approvals as the leader does).
    const decision = decisions.get(name);
    if (final && FINAL.has(final.phase) && decision === undefined) unattributed += 1;
    if (decision) {
      attributed += 1;
      const holder = holderAt(leases, decision.resourceVersion);
      if (holder !== decision.writer) {
        isContradictory = true;
        note(
          'non-leader',
          `${name}: decided (${decision.phase}) by ${decision.writer} at version ${decision.resourceVersion} while ${holder ?? 'nobody'} held the lease`,
        );
      }
    }
    if (final && FINAL.has(final.phase)) {
      const slack = slackOutcome(facts, final, expected, slackByKey);
      if (slack.missing) {
        isLost = true;
        note('slack-lost', `${name}: ${slack.missing}`);
      }
      if (slack.twice) {
        isDuplicated = true;
        note('slack-duplicated', `${name}: ${slack.twice}`);
      }
      if (slack.disorder) {
        isContradictory = true;
        note('slack-order', `${name}: ${slack.disorder}`);
      }
      if (facts.webhooks && final.phase === 'Denied' && !delivered(deliveriesById, `${final.uid}.Denied`)) {
        isLost = true;
        note('webhook-lost', `${name}: no verified delivery of its denial`);
      }
    }
    if (isLost) lost += 1;
    if (isDuplicated) duplicated += 1;
    if (isContradictory) contradictory += 1;
    if (!isLost && !isDuplicated && !isContradictory) decidedCorrectly += 1;
  }

  let webhookRedeliveries = 0;
  for (const deliveries of deliveriesById.values()) {
    const accepted = deliveries.filter((delivery) => delivery.status < 300).length;
    webhookRedeliveries += Math.max(0, accepted - 1);
  }
  if (facts.metrics) {
    for (const outcome of ['Approved', 'Denied'] as const) {
      const objects = [...facts.created.keys()].filter(
        (name) => facts.finals.get(name)?.phase === outcome,
      ).length;
      if (objects !== facts.metrics[outcome])
        note(
          'metrics',
          `greenlight_decisions_total says ${facts.metrics[outcome]} ${outcome}, the objects ${objects}`,
        );
    }
  }
  for (const crash of facts.crashes) note('crash', crash);
  return {
    requests: facts.created.size,
    decidedCorrectly,
    lost,
    duplicated,
    contradictory,
    webhookRedeliveries,
    unattributed,
    attributed,
    problems: [...problems].flatMap(([kind, lines]) => lines.map((line) => `${kind}: ${line}`)),
  };
}

/** What Slack owes a decided request: one tracking message if people were asked, one announcement of a denial. */
function slackOutcome(
  facts: Facts,
  final: FinalRequest,
  expected: Expected,
  slackByKey: ReadonlyMap<string, readonly SlackMessage[]>,
): { missing?: string; twice?: string; disorder?: string } {
  if (facts.slack === undefined) return {};
  const result: { missing?: string; twice?: string; disorder?: string } = {};
  if (expected.by === 'person') {
    const tracking = slackByKey.get(`${final.uid}/tracking`) ?? [];
    if (tracking.length === 0) result.missing = 'no tracking message';
    else if (tracking.length > 1) result.twice = `${tracking.length} tracking messages`;
    else if (tracking[0]?.buttons) result.missing = 'its tracking message still shows buttons';
  }
  if (final.phase === 'Denied') {
    const announced = slackByKey.get(`${final.uid}/announce/Denied`) ?? [];
    if (announced.length === 0) result.missing = 'its denial was never announced';
    else if (announced.length > 1) result.twice = `its denial announced ${announced.length} times`;
    // In order per request: people were asked (the tracking message) before the denial was announced.
    const [tracking] = slackByKey.get(`${final.uid}/tracking`) ?? [];
    const [announcement] = announced;
    if (expected.by === 'person' && tracking && announcement && Number(announcement.ts) < Number(tracking.ts))
      result.disorder = 'its denial was announced before people were asked';
  }
  return result;
}

/** `<uid>/announce/<outcome>/<channel>` without its channel; other keys as they are. */
function withoutChannel(key: string): string {
  const parts = key.split('/');
  return parts[1] === 'announce' ? parts.slice(0, 3).join('/') : key;
}

/** Whether the receiver accepted a delivery of this webhook-id whose signature it verified. */
function delivered(deliveriesById: ReadonlyMap<string, readonly WebhookDelivery[]>, id: string): boolean {
  return (deliveriesById.get(id) ?? []).some((delivery) => delivery.status < 300 && delivery.verified);
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function groupBy<T>(items: Iterable<T>, keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) push(groups, keyOf(item), item);
  return groups;
}
