/**
 * Slack's `mrkdwn` as HTML, for the emulator's web view: `*bold*`, `_italic_`, `~strike~`, `code`,
 * ```preformatted```, `<@U…>` mentions, `<#C…>` channels, `<!date^…|…>` dates, `<url|label>` links,
 * `:emoji:` and line breaks. Slack's own escapes (`&amp;`, `&lt;`, `&gt;`) are read back as the
 * characters they stand for; everything is escaped again for HTML, so no text ever becomes markup.
 */

/** Names for the ids mentions carry. */
export interface Directory {
  userName(id: string): string | undefined;
  channelName(id: string): string | undefined;
}

export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** What Slack's `&amp;`, `&lt;` and `&gt;` stand for. */
export function unescapeSlack(text: string): string {
  return text.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
}

/**
 * Emoji as badges drawn with CSS and a glyph every font has (a headless browser often has no emoji
 * font), labelled for screen readers.
 */
const EMOJI: Readonly<Record<string, { readonly glyph: string; readonly tone: string }>> = {
  white_check_mark: { glyph: '✓', tone: 'good' },
  heavy_check_mark: { glyph: '✓', tone: 'good' },
  x: { glyph: '✗', tone: 'bad' },
  no_entry: { glyph: '⊘', tone: 'bad' },
  no_entry_sign: { glyph: '⊘', tone: 'bad' },
  raising_hand: { glyph: '✋', tone: 'warn' },
  eyes: { glyph: '◉', tone: 'neutral' },
  hourglass: { glyph: '◷', tone: 'neutral' },
  hourglass_flowing_sand: { glyph: '◷', tone: 'neutral' },
  warning: { glyph: '!', tone: 'warn' },
};

export function emoji(name: string): string | undefined {
  const known = EMOJI[name];
  if (!known) return undefined;
  const label = name.replaceAll('_', ' ');
  return `<span class="emoji emoji-${known.tone}" role="img" aria-label="${escapeHtml(label)}">${known.glyph}</span>`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTHS_LONG = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const two = (n: number): string => String(n).padStart(2, '0');

/** Slack's date tokens, in UTC (the emulator has no reader with a time zone). */
function dateToken(token: string, date: Date): string | undefined {
  const day = date.getUTCDate();
  const month = date.getUTCMonth();
  const year = date.getUTCFullYear();
  const short = `${MONTHS[month] ?? ''} ${day}, ${year}`;
  const long = `${WEEKDAYS[date.getUTCDay()] ?? ''}, ${MONTHS_LONG[month] ?? ''} ${day}, ${year}`;
  const time = `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}`;
  switch (token) {
    case 'date_num':
      return `${year}-${two(month + 1)}-${two(day)}`;
    case 'date':
    case 'date_pretty':
      return `${MONTHS_LONG[month] ?? ''} ${day}, ${year}`;
    case 'date_short':
    case 'date_short_pretty':
      return short;
    case 'date_long':
    case 'date_long_pretty':
      return long;
    case 'time':
      return `${time} UTC`;
    case 'time_secs':
      return `${time}:${two(date.getUTCSeconds())} UTC`;
    default:
      return undefined;
  }
}

/** `<!date^1700000000^{date_short} {time}|fallback>` → a `<time>` element; the fallback when unreadable. */
function slackDate(body: string, fallback: string | undefined): string {
  const [, seconds = '', format = ''] = body.split('^');
  const date = new Date(Number(seconds) * 1000);
  if (!/^\d+$/.test(seconds) || Number.isNaN(date.getTime())) return escapeHtml(fallback ?? body);
  const text = format.replace(/\{(\w+)\}/g, (whole, token: string) => dateToken(token, date) ?? whole);
  return `<time datetime="${date.toISOString()}">${escapeHtml(text)}</time>`;
}

const SAFE_LINK = /^(https?:|mailto:)/i;

/** One `<…>` construct of Slack's markup, as HTML. */
function special(body: string, directory: Directory): string {
  const bar = body.indexOf('|');
  const target = bar >= 0 ? body.slice(0, bar) : body;
  const label = bar >= 0 ? body.slice(bar + 1) : undefined;
  if (target.startsWith('@')) {
    const id = target.slice(1);
    const name = directory.userName(id) ?? label ?? id;
    return `<span class="mention" data-user="${escapeHtml(id)}">@${escapeHtml(name)}</span>`;
  }
  if (target.startsWith('#')) {
    const id = target.slice(1);
    const name = directory.channelName(id) ?? label ?? id;
    return `<span class="mention">#${escapeHtml(name)}</span>`;
  }
  if (target.startsWith('!date^')) return slackDate(target, label);
  if (target.startsWith('!')) return `<span class="mention">@${escapeHtml(label ?? target.slice(1))}</span>`;
  const url = unescapeSlack(target);
  const text = escapeHtml(unescapeSlack(label ?? target));
  return SAFE_LINK.test(url) ? `<a href="${escapeHtml(url)}" rel="noreferrer">${text}</a>` : text;
}

/** Bold, italic and strike-through, as Slack reads them: markers next to a word, not inside one. */
function emphasis(html: string): string {
  const style = (marker: string, tag: string) => (text: string) =>
    text.replace(
      new RegExp(
        `(^|[\\s(\\[>])\\${marker}(?=\\S)([^${marker}\\n]*?\\S)\\${marker}(?=$|[\\s).,!?:;\\]<])`,
        'g',
      ),
      `$1<${tag}>$2</${tag}>`,
    );
  return [style('*', 'strong'), style('_', 'em'), style('~', 'del')].reduce(
    (text, apply) => apply(text),
    html,
  );
}

/**
 * Text outside code: `<…>` constructs become placeholders first (so their HTML is never touched by
 * emphasis), then the rest is escaped and styled, then the placeholders are put back.
 */
function prose(text: string, directory: Directory): string {
  const pieces: string[] = [];
  // Private-use characters mark the places: Slack text has no use for them.
  const hold = (html: string): string => `\uE000${pieces.push(html) - 1}\uE001`;
  const held = text.replace(/<([^<>\n]+)>/g, (_whole, body: string) => hold(special(body, directory)));
  const escaped = escapeHtml(unescapeSlack(held));
  const styled = emphasis(escaped).replace(
    /:([a-z0-9_+-]+):/g,
    (whole, name: string) => emoji(name) ?? whole,
  );
  return styled
    .replaceAll('\n', '<br>')
    .replace(/\uE000(\d+)\uE001/g, (_whole, index: string) => pieces[Number(index)] ?? '');
}

/** Inline `code` spans inside a run of prose. */
function inline(text: string, directory: Directory): string {
  return text
    .split(/(`[^`\n]+`)/)
    .map((part, index) =>
      index % 2 === 1
        ? `<code>${escapeHtml(unescapeSlack(part.slice(1, -1)))}</code>`
        : prose(part, directory),
    )
    .join('');
}

/** Slack `mrkdwn` text as HTML. */
export function mrkdwnToHtml(text: string, directory: Directory): string {
  return text
    .split(/(```[\s\S]*?```)/)
    .map((part, index) =>
      index % 2 === 1
        ? `<pre>${escapeHtml(unescapeSlack(part.slice(3, -3).replace(/^\n/, '')))}</pre>`
        : inline(part, directory),
    )
    .join('');
}

/** Slack `plain_text`: shown as written, with `:emoji:` when `emoji` is on (Slack's default). */
export function plainTextToHtml(text: string, withEmoji = true): string {
  const escaped = escapeHtml(text);
  return withEmoji
    ? escaped.replace(/:([a-z0-9_+-]+):/g, (whole, name: string) => emoji(name) ?? whole)
    : escaped;
}
