import type { EphemeralMessage, PostedMessage } from '../messages.ts';
import { IDENTITY, type SlackUser, type Workspace } from '../workspace.ts';
import { renderContent } from './blocks.ts';
import { emoji, escapeHtml, type Directory } from './mrkdwn.ts';

/**
 * The emulator's web view as HTML: the whole page for a first load, and single messages for the
 * live updates the page receives afterwards. Pure functions of the emulator's state.
 */

/** A message as the page shows it. */
export interface MessageView {
  readonly channel: string;
  readonly ts: string;
  readonly threadTs?: string;
  readonly text: string;
  readonly blocks?: PostedMessage['blocks'];
  readonly postedAt: Date;
  readonly edited: boolean;
  readonly replyCount: number;
  /** Who posted it: Greenlight, another app's bot (a machine asking through intake), or a person. */
  readonly author: { readonly name: string; readonly app: boolean };
  /** Emoji reactions, `white_check_mark` with how many reacted. */
  readonly reactions: readonly { readonly name: string; readonly count: number }[];
}

/** The page's view of one stored message (`replyCount` counted by the caller, from the store). */
export function messageView(message: PostedMessage, replyCount: number, directory?: Directory): MessageView {
  const first = message.history[0];
  const app = message.author.botId !== undefined;
  const name = message.author.name ?? directory?.userName(message.author.user) ?? message.author.user;
  return {
    channel: message.channel,
    ts: message.ts,
    ...(message.threadTs === undefined ? {} : { threadTs: message.threadTs }),
    text: message.text,
    ...(message.blocks === undefined ? {} : { blocks: message.blocks }),
    postedAt: first?.at ?? new Date(Number(message.ts) * 1000),
    edited: message.history.length > 1,
    replyCount,
    author: { name, app },
    reactions: message.reactions.map((reaction) => ({ name: reaction.name, count: reaction.users.length })),
  };
}

/** Whether a message is a reply in a thread (a parent's own `thread_ts` may equal its `ts`). */
export function isReply(message: { readonly ts: string; readonly threadTs?: string }): boolean {
  return message.threadTs !== undefined && message.threadTs !== message.ts;
}

export function workspaceDirectory(workspace: Workspace): Directory {
  return {
    userName: (id) =>
      id === IDENTITY.botUserId ? IDENTITY.botName : workspace.users.find((user) => user.id === id)?.name,
    channelName: (id) => workspace.channels.find((channel) => channel.id === id)?.name,
  };
}

/** The DOM id of a message's entry: channel and ts, in characters an id may hold. */
export function entryId(channel: string, ts: string): string {
  return `e-${channel}-${ts.replace('.', '-')}`;
}

const clock = (date: Date): string =>
  `${String(date.getUTCHours()).padStart(2, '0')}:${String(date.getUTCMinutes()).padStart(2, '0')}`;

const GREENLIGHT = { name: IDENTITY.botName, app: true } as const;

function author(at: Date, who: MessageView['author'], extra = ''): string {
  return [
    '<header class="message-meta">',
    `<span class="author">${escapeHtml(who.name)}</span>`,
    who.app ? '<span class="badge" aria-label="app">APP</span>' : '',
    `<time datetime="${at.toISOString()}">${clock(at)}</time>`,
    extra,
    '</header>',
  ].join('');
}

const avatar = (who: MessageView['author']): string =>
  `<div class="avatar" aria-hidden="true">${escapeHtml(who.name.slice(0, 1).toUpperCase())}</div>`;

/** Reactions under a message, as Slack shows them: the emoji's name and how many reacted. */
function reactions(view: MessageView): string {
  if (view.reactions.length === 0) return '';
  const chips = view.reactions.map(
    (reaction) =>
      `<li class="reaction" aria-label="${escapeHtml(reaction.name)}: ${reaction.count}">${emoji(reaction.name) ?? `:${escapeHtml(reaction.name)}:`} ${reaction.count}</li>`,
  );
  return `<ul class="reactions">${chips.join('')}</ul>`;
}

/** One message the bot posted: who, when, its Block Kit, "(edited)", and its thread's size. */
export function renderMessage(view: MessageView, directory: Directory): string {
  const replies =
    view.replyCount > 0
      ? `<button type="button" class="thread-link" data-thread="${escapeHtml(view.ts)}" aria-controls="thread-pane">${view.replyCount} ${view.replyCount === 1 ? 'reply' : 'replies'}</button>`
      : '';
  return [
    `<article class="message" data-channel="${escapeHtml(view.channel)}" data-ts="${escapeHtml(view.ts)}">`,
    avatar(view.author),
    '<div class="message-body">',
    author(view.postedAt, view.author),
    `<div class="blocks">${renderContent(view.text, view.blocks, directory)}</div>`,
    view.edited ? '<span class="edited">(edited)</span>' : '',
    reactions(view),
    replies,
    '</div>',
    '</article>',
  ].join('');
}

/** A message only one person sees (Greenlight's answer to a click); the page shows it to that person. */
export function renderEphemeral(ephemeral: EphemeralMessage, directory: Directory): string {
  return [
    `<article class="message ephemeral" data-channel="${escapeHtml(ephemeral.channel)}" data-ts="${escapeHtml(ephemeral.messageTs)}">`,
    avatar(GREENLIGHT),
    '<div class="message-body">',
    author(ephemeral.at, GREENLIGHT, '<span class="only-you">Only visible to you</span>'),
    `<div class="blocks">${renderContent(ephemeral.text, ephemeral.blocks, directory)}</div>`,
    '</div>',
    '</article>',
  ].join('');
}

/** A list entry holding a top-level message and, hidden, its replies (the thread pane shows them). */
function entry(view: MessageView, replies: readonly MessageView[], directory: Directory): string {
  return [
    `<li class="entry" id="${entryId(view.channel, view.ts)}" data-ts="${escapeHtml(view.ts)}">`,
    renderMessage(view, directory),
    `<ol class="replies" hidden>${replies.map((reply) => replyEntry(reply, directory)).join('')}</ol>`,
    '</li>',
  ].join('');
}

export function replyEntry(view: MessageView, directory: Directory): string {
  return `<li class="entry reply" id="${entryId(view.channel, view.ts)}" data-ts="${escapeHtml(view.ts)}">${renderMessage(view, directory)}</li>`;
}

export function ephemeralEntry(ephemeral: EphemeralMessage, viewer: string, directory: Directory): string {
  const hidden = ephemeral.user === viewer ? '' : ' hidden';
  return `<li class="entry" data-user="${escapeHtml(ephemeral.user)}" data-ts="${escapeHtml(ephemeral.messageTs)}"${hidden}>${renderEphemeral(ephemeral, directory)}</li>`;
}

export interface PageState {
  readonly workspace: Workspace;
  /** Top-level messages and replies, live ones only. */
  readonly messages: readonly MessageView[];
  readonly ephemerals: readonly EphemeralMessage[];
  /** The change the page includes; its live updates start after it. */
  readonly seq: number;
  /** Whose eyes the page opens with (ephemeral messages are theirs only). */
  readonly viewer: string;
}

const compareTs = (left: { readonly ts: string }, right: { readonly ts: string }): number =>
  Number(left.ts) - Number(right.ts);

function channelSection(channelId: string, state: PageState, directory: Directory, first: boolean): string {
  const name = directory.channelName(channelId) ?? channelId;
  const mine = state.messages.filter((message) => message.channel === channelId);
  const top = mine.filter((message) => !isReply(message));
  const items = [
    ...top.map((view) => ({
      ts: view.ts,
      html: entry(
        view,
        mine.filter((reply) => reply.threadTs === view.ts && isReply(reply)).sort(compareTs),
        directory,
      ),
    })),
    ...state.ephemerals
      .filter((ephemeral) => ephemeral.channel === channelId)
      .map((ephemeral) => ({
        ts: ephemeral.messageTs,
        html: ephemeralEntry(ephemeral, state.viewer, directory),
      })),
  ].sort(compareTs);
  return [
    `<section class="channel" id="channel-${escapeHtml(channelId)}" data-channel="${escapeHtml(channelId)}" aria-labelledby="title-${escapeHtml(channelId)}"${first ? '' : ' hidden'}>`,
    `<header class="channel-header"><h2 id="title-${escapeHtml(channelId)}"><span aria-hidden="true">#</span> ${escapeHtml(name)}</h2></header>`,
    `<ol class="messages" aria-label="Messages in #${escapeHtml(name)}">${items.map((item) => item.html).join('')}</ol>`,
    '<p class="empty">No messages yet.</p>',
    '</section>',
  ].join('');
}

function userOption(user: SlackUser, viewer: string): string {
  const selected = user.id === viewer ? ' selected' : '';
  const real = user.realName ? ` (${escapeHtml(user.realName)})` : '';
  return `<option value="${escapeHtml(user.id)}"${selected}>${escapeHtml(user.name)}${real}</option>`;
}

/** The whole page: the workspace's channels, their messages, a thread pane, and who is clicking. */
export function renderPage(state: PageState): string {
  const directory = workspaceDirectory(state.workspace);
  const channels = state.workspace.channels;
  const humans = state.workspace.users.filter((user) => user.bot !== true);
  const links = channels
    .map(
      (channel, index) =>
        `<li><a class="channel-link" href="#${escapeHtml(channel.id)}" data-channel="${escapeHtml(channel.id)}"${index === 0 ? ' aria-current="page"' : ''}><span aria-hidden="true">#</span> ${escapeHtml(channel.name)}<span class="unread" hidden> (new)</span></a></li>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Slack · ${escapeHtml(IDENTITY.teamName)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/web/app.css">
<script type="module" src="/web/app.js"></script>
</head>
<body>
<div class="workspace" data-seq="${state.seq}">
<aside class="sidebar">
<div class="team"><h1>${escapeHtml(IDENTITY.teamName)}</h1><p>a local Slack for Greenlight</p></div>
<div class="viewer">
<label for="viewer">Acting as</label>
<select id="viewer" name="viewer">${humans.map((user) => userOption(user, state.viewer)).join('')}</select>
<p class="hint">Clicks on buttons are sent to Greenlight, signed as Slack signs them, from this person.</p>
</div>
<nav aria-label="Channels"><h2>Channels</h2><ul>${links}</ul></nav>
</aside>
<main class="channel-pane">
${channels.map((channel, index) => channelSection(channel.id, state, directory, index === 0)).join('\n')}
<div class="notice" id="notice" role="alert" hidden></div>
</main>
<aside class="thread-pane" id="thread-pane" aria-labelledby="thread-title" hidden>
<header class="thread-header"><h2 id="thread-title">Thread</h2><span class="thread-channel"></span>
<button type="button" class="close-thread" aria-label="Close thread">×</button></header>
<div class="thread-body"></div>
</aside>
</div>
<dialog class="confirm" id="confirm" aria-labelledby="confirm-title">
<form method="dialog">
<h2 id="confirm-title"></h2>
<p class="confirm-text"></p>
<div class="confirm-buttons"><button value="cancel" class="deny"></button><button value="confirm" class="confirm-button danger"></button></div>
</form>
</dialog>
<div id="announcer" class="visually-hidden" aria-live="polite"></div>
</body>
</html>
`;
}
