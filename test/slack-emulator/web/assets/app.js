// @ts-check
// The Slack emulator's page, in the browser: switches channels, follows the server's live stream of
// messages (posted, edited, deleted, ephemeral), opens threads, and sends button clicks to the
// emulator, which signs them as Slack does and delivers them to the app as the chosen person.
// Plain JavaScript with JSDoc types (checked by tsc with this folder's tsconfig.json): the
// browser runs this file as served, with no build step.

/**
 * @typedef {{ id: string, channel: string, ts: string, threadTs?: string, html: string, entry: string }} MessagePush
 * @typedef {{ id: string, channel: string, ts: string }} RemovePush
 * @typedef {{ channel: string, ts: string, user: string, text: string, html: string }} EphemeralPush
 * @typedef {{ title: string, text: string, confirm: string, deny: string }} Confirmation
 * @typedef {{ ok: boolean, status?: number, error?: string }} ClickAnswer
 */

/**
 * @template {Element} T
 * @param {string} selector
 * @param {{ new (): T }} type
 * @param {ParentNode} [root]
 * @returns {T}
 */
function find(selector, type, root = document) {
  const found = root.querySelector(selector);
  if (!(found instanceof type)) throw new Error(`the page has no ${selector}`);
  return found;
}

const workspace = find('.workspace', HTMLElement);
const viewer = find('#viewer', HTMLSelectElement);
const notice = find('#notice', HTMLElement);
const announcer = find('#announcer', HTMLElement);
const threadPane = find('#thread-pane', HTMLElement);
const dialog = find('#confirm', HTMLDialogElement);

/** @type {{ channel: string, ts: string } | undefined} */
let openThread;

/** The DOM id of a message's entry (as the server renders it). @param {string} channel @param {string} ts */
function entryId(channel, ts) {
  return `e-${channel}-${ts.replace('.', '-')}`;
}

/** @param {string} html */
function fragment(html) {
  const template = document.createElement('template');
  template.innerHTML = html;
  return template.content;
}

/** @param {string} html @returns {HTMLElement} */
function element(html) {
  const first = fragment(html).firstElementChild;
  if (!(first instanceof HTMLElement)) throw new Error('expected an element');
  return first;
}

/** @param {string} text */
function announce(text) {
  announcer.textContent = text;
}

/** @param {string} channel */
function channelName(channel) {
  const link = document.querySelector(`.channel-link[data-channel="${CSS.escape(channel)}"]`);
  return link?.textContent.replace(/\s*\(new\)$/, '').trim() ?? channel;
}

function currentChannel() {
  return document.querySelector('.channel-link[aria-current="page"]')?.getAttribute('data-channel') ?? '';
}

/** @param {string} channel */
function messagesOf(channel) {
  return document.querySelector(`#channel-${CSS.escape(channel)} ol.messages`);
}

/** Whether a list shows its newest message (nobody scrolled up to read older ones). @param {Element} list */
function showsNewest(list) {
  return list.scrollHeight - list.scrollTop - list.clientHeight < 40;
}

/** As Slack does: a channel opens at its newest message. @param {Element | null} list */
function scrollToNewest(list) {
  if (list) list.scrollTop = list.scrollHeight;
}

/** @param {string} channel */
function showChannel(channel) {
  const section = document.getElementById(`channel-${channel}`);
  if (!section) return;
  for (const other of document.querySelectorAll('section.channel')) {
    other.toggleAttribute('hidden', other !== section);
  }
  scrollToNewest(messagesOf(channel));
  for (const link of document.querySelectorAll('.channel-link')) {
    const mine = link.getAttribute('data-channel') === channel;
    if (mine) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
    if (mine) link.querySelector('.unread')?.setAttribute('hidden', '');
  }
  if (openThread && openThread.channel !== channel) closeThread();
}

/** @param {string} channel */
function markUnread(channel) {
  if (channel === currentChannel()) return;
  document
    .querySelector(`.channel-link[data-channel="${CSS.escape(channel)}"] .unread`)
    ?.removeAttribute('hidden');
}

/**
 * Puts an entry into a list in ts order (usually at the end).
 * @param {Element} list
 * @param {HTMLElement} entry
 */
function insertInOrder(list, entry) {
  const ts = Number(entry.dataset['ts']);
  const later = [...list.children].find((child) => Number(child.getAttribute('data-ts')) > ts);
  list.insertBefore(entry, later ?? null);
}

/**
 * JSON from the server, as the type the caller expects (the server renders these shapes).
 * @param {string} text
 * @returns {unknown}
 */
function parse(text) {
  return JSON.parse(text);
}

/** @param {MessagePush} event */
function upsertMessage(event) {
  const article = element(event.html);
  const existing = document.getElementById(event.id);
  if (existing) {
    const old = existing.querySelector(':scope > article.message');
    // A new element: its highlight animation runs once, showing the edit.
    if (old) article.classList.add('updated');
    if (old) old.replaceWith(article);
  } else if (event.threadTs !== undefined) {
    const parent = document.getElementById(entryId(event.channel, event.threadTs));
    const replies = parent?.querySelector(':scope > ol.replies');
    if (replies) insertInOrder(replies, element(event.entry));
  } else {
    const entry = element(
      `<li class="entry" id="${event.id}" data-ts="${event.ts}"><ol class="replies" hidden></ol></li>`,
    );
    entry.prepend(article);
    const list = messagesOf(event.channel);
    const follow = list !== null && showsNewest(list);
    if (list) insertInOrder(list, entry);
    if (follow) scrollToNewest(list);
    markUnread(event.channel);
    if (event.channel === currentChannel()) announce(`New message in ${channelName(event.channel)}`);
  }
  if (openThread?.channel === event.channel) renderThread();
}

/** @param {RemovePush} event */
function removeMessage(event) {
  document.getElementById(event.id)?.remove();
  if (openThread?.channel === event.channel) renderThread();
}

/** @param {EphemeralPush} event */
function addEphemeral(event) {
  const entry = element(`<li class="entry"></li>`);
  entry.dataset['user'] = event.user;
  entry.dataset['ts'] = event.ts;
  entry.append(element(event.html));
  entry.hidden = event.user !== viewer.value;
  const list = messagesOf(event.channel);
  if (list) insertInOrder(list, entry);
  if (!entry.hidden) {
    showChannel(event.channel);
    announce(`Only visible to you: ${event.text}`);
    entry.scrollIntoView({ block: 'nearest' });
  }
}

function showViewersEphemerals() {
  for (const entry of document.querySelectorAll('li.entry[data-user]')) {
    entry.toggleAttribute('hidden', entry.getAttribute('data-user') !== viewer.value);
  }
}

/**
 * A copy of a message for the thread pane, without ids (they stay unique to the channel list).
 * @param {Element} node
 */
function copy(node) {
  const clone = /** @type {Element} */ (node.cloneNode(true));
  for (const withId of clone.querySelectorAll('[id]')) withId.removeAttribute('id');
  clone.removeAttribute('id');
  return clone;
}

function renderThread() {
  if (!openThread) return;
  const parent = document.getElementById(entryId(openThread.channel, openThread.ts));
  const body = find('.thread-body', HTMLElement, threadPane);
  if (!parent) {
    closeThread();
    return;
  }
  const article = parent.querySelector(':scope > article.message');
  const replies = parent.querySelector(':scope > ol.replies');
  const list = document.createElement('ol');
  list.className = 'thread-replies';
  list.setAttribute('aria-label', 'Replies');
  for (const reply of replies?.children ?? []) list.append(copy(reply));
  body.replaceChildren(...(article ? [copy(article)] : []), list);
  for (const link of body.querySelectorAll('.thread-link')) link.remove();
  find('.thread-channel', HTMLElement, threadPane).textContent = channelName(openThread.channel);
}

/** @param {string} channel @param {string} ts */
function openThreadOf(channel, ts) {
  openThread = { channel, ts };
  threadPane.hidden = false;
  workspace.classList.add('with-thread');
  renderThread();
  find('.close-thread', HTMLButtonElement, threadPane).focus();
}

function closeThread() {
  openThread = undefined;
  threadPane.hidden = true;
  workspace.classList.remove('with-thread');
}

/** @param {string} text */
function showNotice(text) {
  notice.textContent = text;
  notice.hidden = false;
}

/**
 * Asks Slack's confirmation question, when the button has one.
 * @param {Confirmation} question
 * @returns {Promise<boolean>}
 */
function confirmed(question) {
  find('#confirm-title', HTMLElement, dialog).textContent = question.title;
  find('.confirm-text', HTMLElement, dialog).textContent = question.text;
  find('.confirm-button', HTMLButtonElement, dialog).textContent = question.confirm;
  find('.deny', HTMLButtonElement, dialog).textContent = question.deny;
  return new Promise((resolve) => {
    dialog.addEventListener(
      'close',
      () => {
        resolve(dialog.returnValue === 'confirm');
      },
      { once: true },
    );
    dialog.returnValue = '';
    dialog.showModal();
  });
}

/** @param {HTMLButtonElement} button */
async function click(button) {
  const article = button.closest('article.message');
  const confirm = button.dataset['confirm'];
  if (!article) return;
  if (confirm && !(await confirmed(/** @type {Confirmation} */ (parse(confirm))))) return;
  const body = {
    user: viewer.value,
    channel: article.getAttribute('data-channel') ?? '',
    ts: article.getAttribute('data-ts') ?? '',
    actionId: button.dataset['actionId'] ?? '',
    blockId: button.dataset['blockId'] ?? '',
    value: button.dataset['value'] ?? '',
  };
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  notice.hidden = true;
  try {
    const response = await fetch('/web/click', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = /** @type {ClickAnswer} */ (parse(await response.text()));
    if (!answer.ok) showNotice(`Greenlight did not take the click: ${answer.error ?? 'unknown error'}.`);
  } catch (error) {
    showNotice(`The click did not reach the emulator: ${String(error)}.`);
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

document.addEventListener('click', (event) => {
  const target = event.target instanceof Element ? event.target : null;
  const button = target?.closest('button.block-button');
  if (button instanceof HTMLButtonElement) {
    void click(button);
    return;
  }
  const thread = target?.closest('button.thread-link');
  const article = thread?.closest('article.message');
  if (thread && article) {
    openThreadOf(article.getAttribute('data-channel') ?? '', thread.getAttribute('data-thread') ?? '');
    return;
  }
  if (target?.closest('button.close-thread')) closeThread();
  const link = target?.closest('a.channel-link');
  if (link) {
    event.preventDefault();
    const channel = link.getAttribute('data-channel') ?? '';
    history.replaceState(null, '', `#${channel}`);
    showChannel(channel);
  }
});

viewer.addEventListener('change', () => {
  const url = new URL(location.href);
  url.searchParams.set('as', viewer.value);
  history.replaceState(null, '', url);
  showViewersEphemerals();
});

/**
 * @template T
 * @param {string} type
 * @param {(data: T) => void} handle
 */
function on(type, handle) {
  stream.addEventListener(type, (event) => {
    if (event instanceof MessageEvent && typeof event.data === 'string')
      handle(/** @type {T} */ (parse(event.data)));
  });
}

const stream = new EventSource(`/web/events?after=${workspace.dataset['seq'] ?? '0'}`);
on('message', upsertMessage);
on('remove', removeMessage);
on('ephemeral', addEphemeral);
stream.addEventListener('open', () => {
  workspace.setAttribute('data-live', 'true');
});
stream.addEventListener('error', () => {
  workspace.setAttribute('data-live', 'false');
});

showChannel(location.hash.slice(1) || currentChannel());
showViewersEphemerals();
