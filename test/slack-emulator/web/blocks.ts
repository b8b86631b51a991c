import { isJsonArray, isJsonObject, type Json, type JsonObject } from '../json.ts';
import { escapeHtml, mrkdwnToHtml, plainTextToHtml, type Directory } from './mrkdwn.ts';

/**
 * Block Kit as HTML, for the emulator's web view: the blocks Slack apps post in messages (header,
 * section with text, fields and an accessory, context, actions with buttons, divider, image), each as
 * semantic HTML. Buttons are real `<button>`s carrying what a click sends back (`action_id`,
 * `block_id`, `value`) and Slack's confirmation dialog, if any. A block the view does not know is
 * named, not dropped.
 */

const str = (object: JsonObject, key: string): string | undefined => {
  const value = object[key];
  return typeof value === 'string' ? value : undefined;
};
const obj = (object: JsonObject, key: string): JsonObject | undefined => {
  const value = object[key];
  return isJsonObject(value) ? value : undefined;
};
const list = (object: JsonObject, key: string): readonly JsonObject[] => {
  const value: Json | undefined = object[key];
  return isJsonArray(value) ? value.filter(isJsonObject) : [];
};

/** A text object (`mrkdwn` or `plain_text`) as HTML. */
export function textObject(text: JsonObject | undefined, directory: Directory): string {
  if (!text) return '';
  const content = str(text, 'text') ?? '';
  return str(text, 'type') === 'mrkdwn'
    ? mrkdwnToHtml(content, directory)
    : plainTextToHtml(content, text['emoji'] !== false);
}

/** What a confirmation dialog says, as the `data-confirm` attribute the page's script reads. */
function confirmAttribute(confirm: JsonObject | undefined): string {
  if (!confirm) return '';
  const plain = (key: string): string => str(obj(confirm, key) ?? {}, 'text') ?? '';
  const dialog = {
    title: plain('title'),
    text: plain('text'),
    confirm: plain('confirm') || 'Yes',
    deny: plain('deny') || 'Cancel',
  };
  return ` data-confirm="${escapeHtml(JSON.stringify(dialog))}"`;
}

function button(element: JsonObject, blockId: string, directory: Directory): string {
  const style = str(element, 'style');
  const url = str(element, 'url');
  const label = textObject(obj(element, 'text'), directory);
  if (url !== undefined && /^https?:/i.test(url)) {
    return `<a class="block-button" href="${escapeHtml(url)}" rel="noreferrer">${label}</a>`;
  }
  const attributes = [
    `class="block-button${style === 'primary' || style === 'danger' ? ` ${style}` : ''}"`,
    `data-action-id="${escapeHtml(str(element, 'action_id') ?? '')}"`,
    `data-block-id="${escapeHtml(blockId)}"`,
    `data-value="${escapeHtml(str(element, 'value') ?? '')}"`,
  ];
  return `<button type="button" ${attributes.join(' ')}${confirmAttribute(obj(element, 'confirm'))}>${label}</button>`;
}

function element(element: JsonObject, blockId: string, directory: Directory): string {
  switch (str(element, 'type') ?? '') {
    case 'button':
      return button(element, blockId, directory);
    case 'image':
      return `<img src="${escapeHtml(str(element, 'image_url') ?? '')}" alt="${escapeHtml(str(element, 'alt_text') ?? '')}">`;
    case 'mrkdwn':
    case 'plain_text':
      return `<span>${textObject(element, directory)}</span>`;
    default:
      return `<span class="unsupported">[${escapeHtml(str(element, 'type') ?? 'element')}]</span>`;
  }
}

function section(block: JsonObject, blockId: string, directory: Directory): string {
  const text = obj(block, 'text');
  const fields = list(block, 'fields');
  const accessory = obj(block, 'accessory');
  return [
    '<div class="block block-section">',
    '<div class="section-body">',
    text ? `<div class="section-text">${textObject(text, directory)}</div>` : '',
    fields.length > 0
      ? `<div class="section-fields">${fields.map((field) => `<div class="field">${textObject(field, directory)}</div>`).join('')}</div>`
      : '',
    '</div>',
    accessory ? `<div class="accessory">${element(accessory, blockId, directory)}</div>` : '',
    '</div>',
  ].join('');
}

/** One block as HTML. */
export function renderBlock(block: JsonObject, directory: Directory): string {
  const type = str(block, 'type') ?? '';
  const blockId = str(block, 'block_id') ?? '';
  switch (type) {
    case 'header':
      return `<h3 class="block block-header">${textObject(obj(block, 'text'), directory)}</h3>`;
    case 'section':
      return section(block, blockId, directory);
    case 'context':
      return `<div class="block block-context">${list(block, 'elements')
        .map((item) => element(item, blockId, directory))
        .join('')}</div>`;
    case 'actions':
      return `<div class="block block-actions" role="group" aria-label="Actions">${list(block, 'elements')
        .map((item) => element(item, blockId, directory))
        .join('')}</div>`;
    case 'divider':
      return '<hr class="block block-divider">';
    case 'image':
      return `<figure class="block block-image">${element(block, blockId, directory)}</figure>`;
    default:
      return `<div class="block unsupported">[${escapeHtml(type || 'block')} block]</div>`;
  }
}

/** A message's content: its blocks when it has any, its text otherwise (as Slack shows it). */
export function renderContent(
  text: string,
  blocks: readonly JsonObject[] | undefined,
  directory: Directory,
): string {
  if (blocks && blocks.length > 0) return blocks.map((block) => renderBlock(block, directory)).join('');
  return `<div class="block block-section"><div class="section-text">${mrkdwnToHtml(text, directory)}</div></div>`;
}
