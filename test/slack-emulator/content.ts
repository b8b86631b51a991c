import { isBlockList, jsonArg, stringArg, type Args } from './args.ts';
import { isJsonObject, type Json, type JsonObject } from './json.ts';
import type { MessageContent, MessageMetadata } from './messages.ts';

/** A Slack error code explaining why arguments were refused. */
export interface Refusal {
  readonly refusal: string;
}

export function refuse(refusal: string): Refusal {
  return { refusal };
}

export function isRefusal(value: unknown): value is Refusal {
  return typeof value === 'object' && value !== null && 'refusal' in value;
}

/** Slack's longest message text. */
const MAX_TEXT_LENGTH = 40_000;

function blocksFrom(args: Args): readonly JsonObject[] | undefined | Refusal {
  const blocks = jsonArg(args, 'blocks');
  if (!blocks.present) return undefined;
  return isBlockList(blocks.value) ? blocks.value : refuse('invalid_blocks');
}

function isMetadata(value: Json | undefined): value is MessageMetadata & JsonObject {
  return (
    isJsonObject(value) && typeof value['event_type'] === 'string' && isJsonObject(value['event_payload'])
  );
}

function metadataFrom(args: Args): MessageMetadata | undefined | Refusal {
  const metadata = jsonArg(args, 'metadata');
  if (!metadata.present) return undefined;
  const value = metadata.value;
  if (!isMetadata(value)) return refuse('invalid_metadata_format');
  return { event_type: value.event_type, event_payload: value.event_payload };
}

/** `text`, `blocks` and `metadata` as a call gave them (each may be left out). */
export interface ContentArgs {
  readonly text: string | undefined;
  readonly blocks: readonly JsonObject[] | undefined;
  readonly metadata: MessageMetadata | undefined;
}

/** Checks the content arguments: `invalid_blocks`, `invalid_metadata_format`, `no_text`, `msg_too_long`. */
export function contentArgsFrom(args: Args): ContentArgs | Refusal {
  const blocks = blocksFrom(args);
  if (isRefusal(blocks)) return blocks;
  const metadata = metadataFrom(args);
  if (isRefusal(metadata)) return metadata;
  const text = stringArg(args, 'text');
  if (text === undefined && (blocks === undefined || blocks.length === 0)) return refuse('no_text');
  if (text !== undefined && text.length > MAX_TEXT_LENGTH) return refuse('msg_too_long');
  return { text, blocks, metadata };
}

export function messageContent(
  text: string,
  blocks: readonly JsonObject[] | undefined,
  metadata?: MessageMetadata,
): MessageContent {
  return {
    text,
    ...(blocks === undefined || blocks.length === 0 ? {} : { blocks }),
    ...(metadata === undefined ? {} : { metadata }),
  };
}

export function newContent(given: ContentArgs): MessageContent {
  return messageContent(given.text ?? '', given.blocks, given.metadata);
}

/** What `chat.update` makes of a message: fields left out keep their value; `blocks: []` removes the blocks. */
export function updatedContent(previous: MessageContent, given: ContentArgs): MessageContent {
  return messageContent(
    given.text ?? previous.text,
    given.blocks ?? previous.blocks,
    given.metadata ?? previous.metadata,
  );
}
