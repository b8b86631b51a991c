import { describe, expect, it } from 'vitest';
import type { ApprovalRequest } from '../../../src/api/v1alpha1/approval-request.ts';
import { announcement, escalationMessage, progressReply } from '../../../src/slack/messages.ts';
import type { JsonObject } from '../json.ts';
import { createWorkspace, GREENLIGHT_AUTHOR } from '../workspace.ts';
import { renderBlock, renderContent } from './blocks.ts';
import { escapeHtml, mrkdwnToHtml, plainTextToHtml } from './mrkdwn.ts';
import {
  entryId,
  messageView,
  renderMessage,
  renderPage,
  workspaceDirectory,
  type MessageView,
} from './render.ts';
import { isSameOrigin, parseClick, sseEvent } from './view.ts';

// The web view's pure parts: Slack's mrkdwn and Block Kit as HTML (with Greenlight's real messages as
// input), the page, and the checks on what the page sends back.

const workspace = createWorkspace({});
const directory = workspaceDirectory(workspace);

const escalated: ApprovalRequest = {
  apiVersion: 'greenlight.dev/v1alpha1',
  kind: 'ApprovalRequest',
  metadata: { namespace: 'finance', name: 'payment-inv-43', uid: 'uid-43' },
  spec: {
    action: 'payment',
    resource: 'invoice/INV-43',
    requester: 'system:serviceaccount:ci:deployer',
    parameters: { amount: 5000, currency: 'USD' },
    reason: 'Q4 <hardware> & more',
  },
  status: {
    phase: 'Escalated',
    expiresAt: '2026-12-06T22:00:00Z',
    conditions: [
      {
        type: 'Escalated',
        status: 'True',
        reason: 'WaitingForApprovals',
        message: 'waiting for 0 of 1 approvals for policy payments',
        lastTransitionTime: '2026-12-06T18:00:00Z',
      },
    ],
  },
};

const decided: ApprovalRequest = {
  ...escalated,
  status: {
    ...escalated.status,
    phase: 'Approved',
    decision: {
      outcome: 'Approved',
      decidedBy: 'slack:U0ALICE',
      reason: 'approved by U0ALICE (alice)',
      decidedAt: '2026-12-06T18:01:00Z',
    },
  },
};

const blocksOf = (message: { blocks: readonly unknown[] }): JsonObject[] => message.blocks as JsonObject[];

describe('mrkdwn as HTML', () => {
  it('styles bold, italic, strike-through and code, and leaves markers inside words alone', () => {
    expect(mrkdwnToHtml('*Approved* by _policy_ ~old~ `greenlight_approve` snake_case_name', directory)).toBe(
      '<strong>Approved</strong> by <em>policy</em> <del>old</del> <code>greenlight_approve</code> snake_case_name',
    );
  });

  it('shows mentions, channels, links and dates by name, and line breaks', () => {
    expect(
      mrkdwnToHtml(
        '<@U0ALICE> in <#C0PAYMENTS>\nsee <https://example.com/a?b=1&amp;c=2|the docs> · expires <!date^1796594400^{date_short} {time}|2026-12-06T22:00:00Z>',
        directory,
      ),
    ).toBe(
      '<span class="mention" data-user="U0ALICE">@alice</span> in <span class="mention">#payments-approvals</span><br>' +
        'see <a href="https://example.com/a?b=1&amp;c=2" rel="noreferrer">the docs</a> · expires ' +
        '<time datetime="2026-12-06T22:00:00.000Z">Dec 6, 2026 22:00 UTC</time>',
    );
  });

  it('reads Slack escapes back and escapes everything for HTML: text never becomes markup', () => {
    expect(mrkdwnToHtml('Q4 &lt;script&gt;alert(1)&lt;/script&gt; &amp; "more"', directory)).toBe(
      'Q4 &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;more&quot;',
    );
    expect(mrkdwnToHtml('<javascript:alert(1)|click me>', directory)).toBe('click me');
    expect(mrkdwnToHtml('```{"a": "<b>"}```', directory)).toBe(
      '<pre>{&quot;a&quot;: &quot;&lt;b&gt;&quot;}</pre>',
    );
  });

  it('draws the emoji Greenlight uses and keeps unknown ones as written', () => {
    expect(mrkdwnToHtml(':white_check_mark: approved :x: :tada:', directory)).toBe(
      '<span class="emoji emoji-good" role="img" aria-label="white check mark">✓</span> approved ' +
        '<span class="emoji emoji-bad" role="img" aria-label="x">✗</span> :tada:',
    );
  });

  it('shows plain_text as written', () => {
    expect(plainTextToHtml('Deny <now> *please*')).toBe('Deny &lt;now&gt; *please*');
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });
});

describe('Block Kit as HTML', () => {
  it('renders an escalation: its header, fields, parameters, reason, context and real buttons', () => {
    const html = renderContent('', blocksOf(escalationMessage(escalated)), directory);
    expect(html).toContain('<h3 class="block block-header">Approval needed: payment invoice/INV-43</h3>');
    expect(html).toContain('<div class="field"><strong>Action</strong><br>payment</div>');
    expect(html).toContain(
      '<pre>{\n  &quot;amount&quot;: 5000,\n  &quot;currency&quot;: &quot;USD&quot;\n}</pre>',
    );
    expect(html).toContain('<strong>Why</strong><br>Q4 &lt;hardware&gt; &amp; more');
    expect(html).toContain('waiting for 0 of 1 approvals for policy payments · expires <time');
    const value = escapeHtml(JSON.stringify({ namespace: 'finance', name: 'payment-inv-43', uid: 'uid-43' }));
    expect(html).toContain(
      `<button type="button" class="block-button primary" data-action-id="greenlight_approve" data-block-id="greenlight_decision" data-value="${value}">Approve</button>`,
    );
    const deny =
      /<button type="button" class="block-button danger" data-action-id="greenlight_deny"[^>]*data-confirm="([^"]*)">Deny<\/button>/.exec(
        html,
      );
    expect(JSON.parse((deny?.[1] ?? '').replaceAll('&quot;', '"'))).toEqual({
      title: 'Deny this request?',
      text: 'payment invoice/INV-43 will be denied; the decision is final.',
      confirm: 'Deny',
      deny: 'Cancel',
    });
  });

  it('renders a decided escalation without buttons, with who decided', () => {
    const html = renderContent('', blocksOf(escalationMessage(decided)), directory);
    expect(html).not.toContain('<button');
    expect(html).toContain(
      '<span class="emoji emoji-good" role="img" aria-label="white check mark">✓</span> <strong>Approved</strong> by <span class="mention" data-user="U0ALICE">@alice</span>',
    );
  });

  it('renders an announcement and a thread reply', () => {
    expect(renderContent('', blocksOf(announcement(decided)), directory)).toContain(
      'Approval requested for payment <code>invoice/INV-43</code>. Status: APPROVED.',
    );
    const reply = progressReply(
      {
        approver: 'U0ALICE',
        via: 'slack',
        decision: 'Approve',
        at: '2026-12-06T18:01:00Z',
        policy: 'payments',
        policyGeneration: 1,
      },
      '',
    );
    expect(renderContent(reply.text, blocksOf(reply), directory)).toContain(
      '<span class="mention" data-user="U0ALICE">@alice</span> <span class="emoji emoji-good"',
    );
  });

  it('shows a message without blocks by its text, and names blocks it does not know', () => {
    expect(renderContent('*hi*', undefined, directory)).toBe(
      '<div class="block block-section"><div class="section-text"><strong>hi</strong></div></div>',
    );
    expect(renderBlock({ type: 'video', title: 'x' }, directory)).toBe(
      '<div class="block unsupported">[video block]</div>',
    );
    expect(renderBlock({ type: 'divider' }, directory)).toBe('<hr class="block block-divider">');
  });
});

describe('the page', () => {
  const view = (overrides: Partial<MessageView>): MessageView => ({
    channel: 'C0PAYMENTS',
    ts: '1796594400.000100',
    text: 'Approval needed',
    postedAt: new Date('2026-12-06T18:00:00Z'),
    edited: false,
    replyCount: 0,
    author: { name: 'greenlight', app: true },
    reactions: [],
    ...overrides,
  });

  it('lists every channel, the people to click as, and each message with its replies and size of thread', () => {
    const html = renderPage({
      workspace,
      messages: [
        view({ replyCount: 1, edited: true }),
        view({ ts: '1796594401.000200', threadTs: '1796594400.000100', text: 'alice approved' }),
      ],
      ephemerals: [
        {
          channel: 'C0PAYMENTS',
          user: 'U0CAROL',
          messageTs: '1796594402.000300',
          text: 'You are not an approver of payments.',
          via: 'chat.postEphemeral',
          at: new Date('2026-12-06T18:00:02Z'),
        },
      ],
      seq: 7,
      viewer: 'U0ALICE',
    });
    for (const channel of workspace.channels) expect(html).toContain(`data-channel="${channel.id}"`);
    expect(html).toContain('<label for="viewer">Acting as</label>');
    expect(html).toContain('<option value="U0DAVE">dave (Dave Operator)</option>');
    expect(html).toContain('data-seq="7"');
    expect(html).toContain(`<li class="entry" id="${entryId('C0PAYMENTS', '1796594400.000100')}"`);
    expect(html).toContain('<span class="edited">(edited)</span>');
    expect(html).toContain('aria-controls="thread-pane">1 reply</button>');
    expect(html).toMatch(/<ol class="replies" hidden><li class="entry reply"[^>]*>.*alice approved/);
    // carol's refusal is hers: the page opens as alice, so it is there but hidden.
    expect(html).toMatch(/<li class="entry" data-user="U0CAROL" data-ts="1796594402.000300" hidden>/);
  });

  it('never contains a token or the signing secret', () => {
    const html = renderPage({ workspace, messages: [view({})], ephemerals: [], seq: 0, viewer: 'U0ALICE' });
    for (const secret of [workspace.botToken, workspace.appToken, workspace.signingSecret])
      expect(html).not.toContain(secret);
  });

  it('knows a stored message: when it was posted, whether it was edited', () => {
    const at = new Date('2026-12-06T18:00:00Z');
    const stored = {
      channel: 'C0PAYMENTS',
      ts: '1796594400.000100',
      text: 'v2',
      deleted: false,
      author: GREENLIGHT_AUTHOR,
      reactions: [],
      history: [
        { text: 'v1', at, via: 'chat.postMessage' as const },
        { text: 'v2', at: new Date(), via: 'chat.update' as const },
      ],
    };
    expect(messageView(stored, 2)).toEqual({
      channel: 'C0PAYMENTS',
      ts: '1796594400.000100',
      text: 'v2',
      postedAt: at,
      edited: true,
      replyCount: 2,
      author: { name: 'greenlight', app: true },
      reactions: [],
    });
  });

  it('shows who posted a message and its reactions: another app’s bot asking through intake', () => {
    const at = new Date('2026-12-06T18:00:00Z');
    const asking = {
      channel: 'C0PAYREQ',
      ts: '1796594400.000200',
      text: 'Approval requested: payment of $300',
      deleted: false,
      author: { user: 'U0PAYBOT', botId: 'B0PAYBOT', appId: 'A0PAYMENTS', name: 'payments-bot' },
      reactions: [{ name: 'white_check_mark', users: ['U0GREENLIGHT'] }],
      history: [{ text: 'Approval requested: payment of $300', at, via: 'chat.postMessage' as const }],
    };
    const view = messageView(asking, 1);
    expect(view.author).toEqual({ name: 'payments-bot', app: true });
    const html = renderMessage(view, workspaceDirectory(createWorkspace({})));
    expect(html).toContain('<span class="author">payments-bot</span>');
    expect(html).toContain(
      '<li class="reaction" aria-label="white_check_mark: 1"><span class="emoji emoji-good" role="img" aria-label="white check mark">✓</span> 1</li>',
    );
  });
});

describe('what the page sends back', () => {
  it('accepts a click with every field a string, and nothing else', () => {
    const click = {
      user: 'U0ALICE',
      channel: 'C0PAYMENTS',
      ts: '1.2',
      actionId: 'greenlight_approve',
      blockId: 'greenlight_decision',
      value: '{}',
    };
    expect(parseClick(JSON.stringify(click))).toEqual(click);
    expect(parseClick(JSON.stringify({ ...click, user: 7 }))).toBeUndefined();
    expect(parseClick('payload=x')).toBeUndefined();
  });

  it('takes clicks only from its own origin on loopback', () => {
    expect(isSameOrigin({ host: '127.0.0.1:4000', origin: 'http://127.0.0.1:4000' }, 4000)).toBe(true);
    expect(isSameOrigin({ host: 'localhost:4000' }, 4000)).toBe(true);
    expect(isSameOrigin({ host: '127.0.0.1:4000', origin: 'https://evil.example' }, 4000)).toBe(false);
    expect(isSameOrigin({ host: 'evil.example:4000', origin: 'http://evil.example:4000' }, 4000)).toBe(false);
  });

  it('streams events in the server-sent events format', () => {
    expect(sseEvent(3, 'remove', { id: 'e-C-1-2' })).toBe('id: 3\nevent: remove\ndata: {"id":"e-C-1-2"}\n\n');
  });
});
