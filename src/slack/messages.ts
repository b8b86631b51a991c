import type { ContextBlock, KnownBlock, SectionBlock } from '@slack/types';
import type { ApprovalRequest, Approval } from '../api/v1alpha1/approval-request.ts';

/** The action ids of the escalation buttons (fixed by the contract). */
export const ActionId = { Approve: 'greenlight_approve', Deny: 'greenlight_deny' } as const;
export type ActionId = (typeof ActionId)[keyof typeof ActionId];

/** What a button carries: enough to find the request, and to notice it was replaced (uid). */
export interface ButtonValue {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export function buttonValue(request: ApprovalRequest): string {
  const value: ButtonValue = {
    namespace: request.metadata.namespace ?? '',
    name: request.metadata.name ?? '',
    uid: request.metadata.uid ?? '',
  };
  return JSON.stringify(value);
}

export function parseButtonValue(text: string | undefined): ButtonValue | undefined {
  try {
    const value = JSON.parse(text ?? '') as Partial<ButtonValue> | null;
    if (
      typeof value?.namespace === 'string' &&
      typeof value.name === 'string' &&
      typeof value.uid === 'string'
    ) {
      return { namespace: value.namespace, name: value.name, uid: value.uid };
    }
  } catch {
    // not ours: falls through
  }
  return undefined;
}

export interface SlackMessage {
  readonly text: string;
  readonly blocks: KnownBlock[];
}

const MAX_SECTION = 2900; // Slack's limit is 3000 characters per section text

function clip(text: string, max = MAX_SECTION): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Escapes what Slack's mrkdwn would read as markup or mentions. */
export function escapeMrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function subject(request: ApprovalRequest): string {
  const { action, resource } = request.spec;
  return `${action}${resource ? ` ${resource}` : ''}`;
}

/** `<!date^…>` renders in each reader's time zone; the fallback is UTC. */
function slackDate(iso: string): string {
  const seconds = Math.floor(new Date(iso).getTime() / 1000);
  return Number.isFinite(seconds) ? `<!date^${seconds}^{date_short_pretty} {time}|${iso}>` : iso;
}

/** `slack:U123` → `<@U123>`, `user:alice` → `alice`, `policy:p/r` → `policy p/r`. */
export function describeDecider(decidedBy: string): string {
  if (decidedBy.startsWith('slack:')) return `<@${decidedBy.slice('slack:'.length)}>`;
  if (decidedBy.startsWith('user:')) return escapeMrkdwn(decidedBy.slice('user:'.length));
  if (decidedBy.startsWith('policy:')) return `policy ${escapeMrkdwn(decidedBy.slice('policy:'.length))}`;
  return decidedBy;
}

const outcomeMark = { Approved: ':white_check_mark:', Denied: ':x:', Expired: ':hourglass:' } as const;

function requestFields(request: ApprovalRequest): SectionBlock {
  const { spec, metadata } = request;
  const fields = [
    `*Action*\n${escapeMrkdwn(spec.action)}`,
    `*Resource*\n${escapeMrkdwn(spec.resource ?? '—')}`,
    `*Requested by*\n${escapeMrkdwn(spec.requester ?? '(unknown)')}`,
    `*Namespace*\n${escapeMrkdwn(metadata.namespace ?? '')}`,
  ];
  return { type: 'section', fields: fields.map((text) => ({ type: 'mrkdwn', text })) };
}

function detailBlocks(request: ApprovalRequest): KnownBlock[] {
  const blocks: KnownBlock[] = [];
  const parameters = request.spec.parameters;
  if (parameters && Object.keys(parameters).length > 0) {
    const json = clip(JSON.stringify(parameters, null, 2), MAX_SECTION - 10);
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Parameters*\n\`\`\`${json}\`\`\`` } });
  }
  if (request.spec.reason) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: clip(`*Why*\n${escapeMrkdwn(request.spec.reason)}`) },
    });
  }
  const said = (request.status?.evaluations ?? [])
    .filter((e) => e.result !== 'NoMatch')
    .map(
      (e) =>
        `• ${escapeMrkdwn(e.policy)}${e.rule ? `/${escapeMrkdwn(e.rule)}` : ''}: ${e.result} — ${escapeMrkdwn(e.message)}`,
    );
  if (said.length > 0) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: clip(`*What the rules said*\n${said.join('\n')}`) },
    });
  }
  return blocks;
}

function waitingContext(request: ApprovalRequest): ContextBlock {
  const condition = request.status?.conditions?.find((c) => c.type === 'Escalated');
  const expires = request.status?.expiresAt ? ` · expires ${slackDate(request.status.expiresAt)}` : '';
  return {
    type: 'context',
    elements: [
      { type: 'mrkdwn', text: clip(`${escapeMrkdwn(condition?.message ?? 'waiting for people')}${expires}`) },
    ],
  };
}

/**
 * The message that tracks an escalated request: what is asked, who asks, why, what the rules said,
 * how many approvals are missing, when it expires, and Approve/Deny buttons — or, once decided, the
 * outcome and who decided, without buttons.
 */
export function escalationMessage(request: ApprovalRequest): SlackMessage {
  const decision = request.status?.decision;
  const title = `Approval needed: ${subject(request)}`;
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(title, 150) } },
    requestFields(request),
    ...detailBlocks(request),
  ];
  if (decision) {
    const text = `${outcomeMark[decision.outcome]} *${decision.outcome}* by ${describeDecider(decision.decidedBy)}`;
    blocks.push(
      { type: 'section', text: { type: 'mrkdwn', text } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: clip(escapeMrkdwn(decision.reason)) }] },
    );
    return { text: `${title}: ${decision.outcome} by ${decision.decidedBy}`, blocks };
  }
  const value = buttonValue(request);
  blocks.push(waitingContext(request), {
    type: 'actions',
    block_id: 'greenlight_decision',
    elements: [
      {
        type: 'button',
        action_id: ActionId.Approve,
        style: 'primary',
        text: { type: 'plain_text', text: 'Approve' },
        value,
      },
      {
        type: 'button',
        action_id: ActionId.Deny,
        style: 'danger',
        text: { type: 'plain_text', text: 'Deny' },
        value,
        confirm: {
          title: { type: 'plain_text', text: 'Deny this request?' },
          text: { type: 'plain_text', text: `${subject(request)} will be denied; the decision is final.` },
          confirm: { type: 'plain_text', text: 'Deny' },
          deny: { type: 'plain_text', text: 'Cancel' },
        },
      },
    ],
  });
  return { text: `${title} (requested by ${request.spec.requester ?? 'someone unknown'})`, blocks };
}

/** A thread reply for one person's answer: "alice approved (1 of 2)". */
export function progressReply(approval: Approval, counted: string): SlackMessage {
  const who = approval.via === 'slack' ? `<@${approval.approver}>` : escapeMrkdwn(approval.approver);
  const verb = approval.decision === 'Approve' ? ':white_check_mark: approved' : ':x: denied';
  const comment = approval.comment ? `: “${escapeMrkdwn(approval.comment)}”` : '';
  const text = `${who} ${verb}${comment}${counted ? ` (${counted})` : ''}`;
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: clip(text) } }] };
}

const statusWord = (request: ApprovalRequest): string => {
  const decision = request.status?.decision;
  if (!decision) return request.status?.phase === 'Escalated' ? 'ESCALATED' : 'PENDING';
  if (decision.decidedBy.startsWith('policy:')) return `AUTO-${decision.outcome.toUpperCase()}`;
  return decision.outcome.toUpperCase();
};

function stringParameter(request: ApprovalRequest, name: string): string | undefined {
  const value = request.spec.parameters?.[name];
  return typeof value === 'string' ? value : undefined;
}

/** "staging deployment `v2.4.1` of web", "payment `invoice/INV-42`". */
function announced(request: ApprovalRequest): string {
  const { action, resource } = request.spec;
  const environment = stringParameter(request, 'environment');
  const version = stringParameter(request, 'version');
  const noun = action === 'deploy' ? 'deployment' : action;
  const object = version ?? resource ?? request.metadata.name ?? '';
  const of = version && resource ? ` of ${resource}` : '';
  return `${environment ? `${environment} ` : ''}${noun} \`${object}\`${of}`;
}

function announcementDetail(request: ApprovalRequest): string {
  const decision = request.status?.decision;
  if (decision) return `${describeDecider(decision.decidedBy)}: ${escapeMrkdwn(decision.reason)}`;
  return escapeMrkdwn(request.status?.conditions?.find((c) => c.type === 'Escalated')?.message ?? '');
}

/**
 * An announcement in the spirit of the seed article: "Approval requested for staging deployment
 * `v2.4.1`. Status: AUTO-APPROVED."
 */
export function announcement(request: ApprovalRequest): SlackMessage {
  const text = `Approval requested for ${announced(request)}. Status: ${statusWord(request)}.`;
  const where = `${escapeMrkdwn(request.metadata.namespace ?? '')}/${escapeMrkdwn(request.metadata.name ?? '')}`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: clip(escapeMrkdwn(text)) } },
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: clip(`${where} · ${announcementDetail(request)}`) }],
      },
    ],
  };
}

/** Many announcements for one channel at once become one digest instead of a flood. */
export function digest(requests: readonly ApprovalRequest[]): SlackMessage {
  const counts = new Map<string, number>();
  for (const request of requests) counts.set(statusWord(request), (counts.get(statusWord(request)) ?? 0) + 1);
  const summary = [...counts].map(([word, count]) => `${count} ${word}`).join(', ');
  const lines = requests
    .slice(0, 40)
    .map((request) => `• ${escapeMrkdwn(announcement(request).text)}`)
    .join('\n');
  const more = requests.length > 40 ? `\n…and ${requests.length - 40} more` : '';
  const text = `${requests.length} approval decisions: ${summary}`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${text}*` } },
      { type: 'section', text: { type: 'mrkdwn', text: clip(`${lines}${more}`) } },
    ],
  };
}

/** The emoji on an asking message that shows where its request stands. */
export const STATE_REACTIONS = {
  Pending: 'eyes',
  Escalated: 'raising_hand',
  Approved: 'white_check_mark',
  Denied: 'x',
  Expired: 'hourglass',
  Refused: 'no_entry_sign',
} as const;
export type ShownState = keyof typeof STATE_REACTIONS;

/** The stages a Slack-born request is answered at, in its thread: one reply each. */
export type IntakeStage = 'Pending' | 'Escalated' | 'Decided';

function where(request: ApprovalRequest): string {
  return `\`${escapeMrkdwn(request.metadata.namespace ?? '')}/${escapeMrkdwn(request.metadata.name ?? '')}\``;
}

function condition(request: ApprovalRequest, type: string): string {
  return request.status?.conditions?.find((c) => c.type === type)?.message ?? '';
}

/**
 * A reply in the asking message's thread, in words people read: the request was received and waits
 * for its rules, went to people, or was decided (by whom, and why).
 */
export function intakeReply(request: ApprovalRequest, stage: IntakeStage): SlackMessage {
  const decision = request.status?.decision;
  let text: string;
  if (stage === 'Decided' && decision) {
    text =
      `${outcomeMark[decision.outcome]} *${decision.outcome}* by ${describeDecider(decision.decidedBy)}: ` +
      `${escapeMrkdwn(decision.reason)} (${where(request)})`;
  } else if (stage === 'Escalated') {
    const channel = request.status?.slack?.channel;
    text =
      `:raising_hand: *Escalated* to people${channel ? ` in <#${channel}>` : ''}: ` +
      `${escapeMrkdwn(condition(request, 'Escalated') || 'waiting for approvers')} (${where(request)})`;
  } else {
    text =
      `:eyes: *Received* as ${where(request)}; its policies have not decided yet: ` +
      escapeMrkdwn(condition(request, 'Decided') || 'pending');
  }
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: clip(text) } }] };
}

/** What a machine reads back from the decided reply (`greenlight_approval_decided`). */
export function decidedPayload(request: ApprovalRequest): Readonly<Record<string, string>> {
  const decision = request.status?.decision;
  return {
    namespace: request.metadata.namespace ?? '',
    name: request.metadata.name ?? '',
    phase: request.status?.phase ?? '',
    outcome: decision?.outcome ?? '',
    decidedBy: decision?.decidedBy ?? '',
    reason: decision?.reason ?? '',
  };
}

/** The reply to a message Greenlight did not take: why, and that nothing was created. */
export function refusalReply(result: 'refused' | 'invalid', why: string): SlackMessage {
  const what = result === 'invalid' ? 'This request is not valid' : 'This request was refused';
  const text = `:no_entry_sign: ${what}: ${escapeMrkdwn(why)}. Nothing was created.`;
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: clip(text) } }] };
}
