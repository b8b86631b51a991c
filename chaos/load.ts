import type { ApprovalRequest } from '../src/api/v1alpha1/approval-request.ts';
import { statusCodeOf } from '../src/k8s/api-errors.ts';
import type { GreenlightApi } from '../src/k8s/greenlight-api.ts';
import { ActionId, buttonValue } from '../src/slack/messages.ts';
import type { SlackEmulator } from '../test/slack-emulator/index.ts';
import { integerBetween, type Random } from './random.ts';

/** What the workload's policy (workspace.ts) must make of a request, decided when it is planned. */
export interface Expectation {
  readonly amount: number;
  readonly phase: 'Approved' | 'Denied';
  /** Who decides: the policy's rules, or a person in Slack (after an escalation). */
  readonly by: 'policy' | 'person';
}

/** The amounts the policy tells apart: below 500 approved, from 100,000 denied, people for the rest. */
export const APPROVE_BELOW = 500;
export const DENY_FROM = 100_000;
/** One request in this many goes to people (Slack posts about one message a second per channel). */
const DENIED_SHARE = 0.1;

/** The n-th request of a stream: mostly approved, a tenth denied, every `escalateEvery`-th to a person. */
export function plan(index: number, escalateEvery: number, random: Random): Expectation {
  if (index % escalateEvery === escalateEvery - 1) {
    const approve = random() < 0.5;
    return {
      amount: integerBetween(random, APPROVE_BELOW, DENY_FROM - 1),
      phase: approve ? 'Approved' : 'Denied',
      by: 'person',
    };
  }
  if (random() < DENIED_SHARE)
    return { amount: integerBetween(random, DENY_FROM, 10 * DENY_FROM), phase: 'Denied', by: 'policy' };
  return { amount: integerBetween(random, 1, APPROVE_BELOW - 1), phase: 'Approved', by: 'policy' };
}

export interface Created {
  readonly expectation: Expectation;
  /** Date.now() when the API server confirmed it (or said it already existed). */
  readonly at: number;
}

/**
 * A CI pipeline creating requests at a steady rate. A create that fails (the API server down, a
 * timeout) is tried again until it lands, as a pipeline would; "already exists" means an earlier
 * try landed. Only requests the API server confirmed are counted as created.
 */
export class RequestStream {
  readonly created = new Map<string, Created>();
  failedAttempts = 0;
  readonly #api: GreenlightApi;
  readonly #namespace: string;
  readonly #requester: string;
  readonly #random: Random;
  readonly #escalateEvery: number;
  readonly #inFlight = new Set<Promise<void>>();
  #stoppedAt = Number.POSITIVE_INFINITY;
  #index = 0;

  constructor(options: {
    api: GreenlightApi;
    namespace: string;
    requester: string;
    random: Random;
    escalateEvery: number;
  }) {
    this.#api = options.api;
    this.#namespace = options.namespace;
    this.#requester = options.requester;
    this.#random = options.random;
    this.#escalateEvery = options.escalateEvery;
  }

  /** Creates `rate` requests a second until `stop`. */
  run(rate: number): { stop: () => Promise<void> } {
    const startedAt = performance.now();
    let sent = 0;
    const tick = setInterval(() => {
      const due = Math.floor(((performance.now() - startedAt) / 1000) * rate);
      // At most 200 creates in flight: an API server that is down does not pile up thousands.
      while (sent < due && this.#inFlight.size < 200) {
        sent += 1;
        this.#launch();
      }
    }, 20);
    return {
      stop: async () => {
        clearInterval(tick);
        this.#stoppedAt = Date.now();
        await Promise.all(this.#inFlight);
      },
    };
  }

  #launch(): void {
    const index = this.#index++;
    const name = `pay-${String(index).padStart(6, '0')}`;
    const expectation = plan(index, this.#escalateEvery, this.#random);
    const attempt = this.#create(name, expectation).finally(() => this.#inFlight.delete(attempt));
    this.#inFlight.add(attempt);
  }

  async #create(name: string, expectation: Expectation): Promise<void> {
    let delayMs = 200;
    for (;;) {
      try {
        await this.#api.createRequest(this.#namespace, name, {
          action: 'payment',
          resource: `invoice/${name}`,
          requester: this.#requester,
          parameters: { amount: expectation.amount, currency: 'USD' },
        });
        this.created.set(name, { expectation, at: Date.now() });
        return;
      } catch (error) {
        if (statusCodeOf(error) === 409) {
          this.created.set(name, { expectation, at: Date.now() });
          return;
        }
        this.failedAttempts += 1;
        // Two minutes after the stream stopped, a create still failing is given up (not counted).
        if (Date.now() - this.#stoppedAt > 120_000) return;
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        delayMs = Math.min(delayMs * 2, 2_000);
      }
    }
  }
}

/**
 * The people: for each request escalated to Slack (its tracking message recorded in its status), a
 * click on Approve or Deny as planned, through any replica's Slack endpoint; tried again every few
 * seconds until the request is decided (a replica may be down when the click comes).
 */
export class People {
  readonly clicks = { sent: 0, failed: 0 };
  readonly #slack: SlackEmulator;
  readonly #lastTry = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;

  constructor(slack: SlackEmulator) {
    this.#slack = slack;
  }

  start(options: {
    requests: () => Iterable<ApprovalRequest>;
    expectation: (name: string) => Expectation | undefined;
    urls: () => readonly string[];
  }): void {
    let busy = false;
    this.#timer = setInterval(() => {
      if (busy) return;
      busy = true;
      void this.#answer(options).finally(() => {
        busy = false;
      });
    }, 500);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async #answer(options: Parameters<People['start']>[0]): Promise<void> {
    const urls = options.urls();
    for (const request of options.requests()) {
      const name = request.metadata.name ?? '';
      const slack = request.status?.slack;
      const expectation = options.expectation(name);
      if (request.status?.phase !== 'Escalated' || !slack?.ts || expectation?.by !== 'person') continue;
      const last = this.#lastTry.get(name) ?? 0;
      if (Date.now() - last < 3_000) continue;
      this.#lastTry.set(name, Date.now());
      const url = urls[Math.floor(Math.random() * urls.length)];
      if (url === undefined) return;
      this.clicks.sent += 1;
      try {
        const result = await this.#slack.click({
          via: 'http',
          requestUrl: url,
          user: 'U0ALICE',
          actionId: expectation.phase === 'Approved' ? ActionId.Approve : ActionId.Deny,
          value: buttonValue(request),
          channel: slack.channel,
          messageTs: slack.ts,
        });
        if (result.via === 'http' && result.status !== 200) this.clicks.failed += 1;
      } catch {
        this.clicks.failed += 1;
      }
    }
  }
}
