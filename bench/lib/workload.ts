/**
 * What the benchmarks ask for: the typical policy (shared with the policy-engine micro-benchmark) and
 * payment requests of a realistic size that the policy's rules approve, deny or escalate.
 */
import type { ApprovalPolicy, ApprovalPolicySpec } from '../../src/api/v1alpha1/approval-policy.ts';
import type {
  ApprovalRequest,
  ApprovalRequestSpec,
  ApprovalRequestStatus,
} from '../../src/api/v1alpha1/approval-request.ts';
import { API_VERSION } from '../../src/api/v1alpha1/schema.ts';
import { nextStatus } from '../../src/controllers/approval-request/status.ts';
import { compilePolicy, type CompiledPolicy } from '../../src/policy/compile-policy.ts';
import { decide, type Resolution } from '../../src/policy/decide.ts';

export const POLICY_NAME = 'payments';

/** The "payment below $500" policy of examples/payments, with two more rules. */
export const PAYMENTS_POLICY_SPEC: ApprovalPolicySpec = {
  selector: { actions: ['payment'] },
  rules: [
    {
      name: 'over-limit',
      when: 'params.amount >= 100000',
      decision: 'Deny',
      message: 'payments of $100,000 or more cannot be approved through this workflow',
    },
    {
      name: 'below-500',
      when: "params.amount < 500 && params.currency == 'USD'",
      decision: 'Approve',
      message: 'payments below $500 are approved automatically',
    },
    {
      name: 'ci-refunds',
      when:
        "request.spec.requester.startsWith('system:serviceaccount:ci:') && " +
        "has(params.kind) && params.kind == 'refund' && params.amount < 2000",
      decision: 'Approve',
      message: 'refunds below $2,000 from CI are approved automatically',
    },
    {
      name: 'known-vendor',
      when: "has(params.vendor) && params.vendor in ['acme', 'globex'] && params.amount < 10000",
      decision: 'Approve',
      message: 'known vendors below $10,000',
    },
  ],
  defaultDecision: 'Escalate',
  escalation: {
    slack: { channel: '#payments-approvals' },
    approvers: { kubernetesGroups: ['approvers'] },
    requiredApprovals: 2,
    timeout: '4h',
  },
};

/** Slack announcements of every outcome, for the Slack-cost measurement. */
const NOTIFY_ALL: NonNullable<ApprovalPolicySpec['notify']> = {
  slack: { channel: '#workflow-updates' },
  on: ['Approved', 'Denied', 'Escalated', 'Expired'],
};

/** The Secret key that signs the webhook-cost measurement's webhooks. */
export const WEBHOOK_SECRET_REF = { name: 'bench-webhook', key: 'secret' } as const;

/** A decision webhook for every outcome, for the webhook-cost measurement. */
function notifyWebhook(url: string): NonNullable<ApprovalPolicySpec['notify']> {
  return { webhooks: [{ url, secretRef: WEBHOOK_SECRET_REF }] };
}

export function paymentsPolicy(
  namespace: string,
  options: { notify?: boolean | undefined; webhookUrl?: string | undefined } = {},
): ApprovalPolicy {
  const notify = options.notify
    ? NOTIFY_ALL
    : options.webhookUrl !== undefined
      ? notifyWebhook(options.webhookUrl)
      : undefined;
  return {
    apiVersion: API_VERSION,
    kind: 'ApprovalPolicy',
    metadata: { name: POLICY_NAME, namespace, generation: 1 },
    spec: notify ? { ...PAYMENTS_POLICY_SPEC, notify } : PAYMENTS_POLICY_SPEC,
  };
}

/** approve: rule 2 (below-500); deny: rule 1 (over-limit); escalate: no rule matches. */
export type RequestKind = 'approve' | 'deny' | 'escalate';

export const EXPECTED_PHASE: Readonly<Record<RequestKind, string>> = {
  approve: 'Approved',
  deny: 'Denied',
  escalate: 'Escalated',
};

export function requestName(prefix: string, index: number): string {
  return `${prefix}-${String(index).padStart(6, '0')}`;
}

const REASON =
  'Settles the monthly invoice for hosted build infrastructure (runners, artifact storage and egress) ' +
  'as agreed in the framework contract; the amount matches the purchase order and the goods-received ' +
  'note attached in the finance system. Raised by the payments pipeline after the three-way match passed.';

/**
 * A payment of a realistic size: about 0.9 KB of spec, about 3 KiB stored with the decided status and
 * the API server's metadata (managedFields included).
 */
export function paymentSpec(index: number, kind: RequestKind, requester: string): ApprovalRequestSpec {
  const amount = kind === 'approve' ? 100 + (index % 399) : kind === 'deny' ? 100_000 + index : 4_200;
  const invoice = `INV-${String(index).padStart(7, '0')}`;
  return {
    action: 'payment',
    resource: `invoice/${invoice}`,
    requester,
    reason: REASON,
    parameters: {
      amount,
      currency: kind === 'escalate' ? 'EUR' : 'USD',
      vendor: 'initech',
      invoice,
      kind: 'invoice',
      costCenter: `CC-${4000 + (index % 97)}`,
      purchaseOrder: `PO-${String(index * 7).padStart(8, '0')}`,
      dueDate: '2026-12-31',
      lines: [
        { sku: 'RUNNER-XL', description: 'build runner hours, x-large', quantity: 720, unitPrice: 0.04 },
        { sku: 'ARTIFACTS', description: 'artifact storage, GiB-month', quantity: 850, unitPrice: 0.02 },
        { sku: 'EGRESS', description: 'network egress, GiB', quantity: 1200, unitPrice: 0.01 },
      ],
    },
  };
}

/**
 * The status Greenlight itself would write for a request at `now`, computed with its own pure code
 * (decide + nextStatus): what the bare client of the ceiling writes, and what the store pre-writes.
 */
export class StatusWriter {
  readonly #compiled: CompiledPolicy;

  constructor(namespace: string) {
    this.#compiled = compilePolicy(paymentsPolicy(namespace));
    if (this.#compiled.problems.length > 0) throw new Error('the typical policy does not compile');
  }

  resolve(request: ApprovalRequest, now: Date): Resolution {
    return decide({ request, policies: [this.#compiled], lookup: () => null, approvals: [], now });
  }

  statusFor(request: ApprovalRequest, now: Date): ApprovalRequestStatus {
    return nextStatus(request, this.resolve(request, now), now);
  }
}
