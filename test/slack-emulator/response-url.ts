import { booleanArg, stringArg } from './args.ts';
import { contentArgsFrom, isRefusal, messageContent, newContent, type ContentArgs } from './content.ts';
import type { JsonObject } from './json.ts';
import type { MessageStore } from './messages.ts';

/** Slack lets an app use a `response_url` up to five times (within 30 minutes). */
export const RESPONSE_URL_MAX_USES = 5;

/** The message and the person an issued `response_url` answers. */
export interface ResponseTarget {
  readonly channel: string;
  readonly messageTs: string;
  readonly user: string;
}

export const RESPONSE_ACTIONS = {
  ephemeral: 'ephemeral',
  inChannel: 'in_channel',
  replace: 'replace_original',
  delete: 'delete_original',
} as const;
export type ResponseAction = (typeof RESPONSE_ACTIONS)[keyof typeof RESPONSE_ACTIONS];

/** One POST to a `response_url`, as recorded. */
export interface ResponseUrlPost {
  readonly target: ResponseTarget;
  readonly body: JsonObject;
  readonly status: number;
  readonly action?: ResponseAction;
  readonly error?: string;
  readonly at: Date;
}

export interface ResponseAnswer {
  readonly status: number;
  readonly action?: ResponseAction;
  readonly error?: string;
}

function actionOf(body: JsonObject): ResponseAction {
  if (booleanArg(body, 'delete_original')) return RESPONSE_ACTIONS.delete;
  if (booleanArg(body, 'replace_original')) return RESPONSE_ACTIONS.replace;
  return stringArg(body, 'response_type') === 'in_channel'
    ? RESPONSE_ACTIONS.inChannel
    : RESPONSE_ACTIONS.ephemeral;
}

function replaceOriginal(target: ResponseTarget, given: ContentArgs, store: MessageStore): boolean {
  const previous = store.find(target.channel, target.messageTs);
  if (previous === undefined) return false;
  const replaced = messageContent(given.text ?? '', given.blocks, previous.metadata);
  return store.update(target.channel, target.messageTs, replaced, 'response_url') !== undefined;
}

interface ResponseRequest {
  readonly action: ResponseAction;
  readonly target: ResponseTarget;
  readonly given: ContentArgs;
  readonly threadTs: string | undefined;
}

function apply({ action, target, given, threadTs }: ResponseRequest, store: MessageStore): boolean {
  switch (action) {
    case RESPONSE_ACTIONS.replace:
      return replaceOriginal(target, given, store);
    case RESPONSE_ACTIONS.inChannel:
      store.post(target.channel, threadTs, newContent(given), Date.now());
      return true;
    case RESPONSE_ACTIONS.ephemeral:
      store.addEphemeral({
        channel: target.channel,
        user: target.user,
        messageTs: store.nextTs(Date.now()),
        text: given.text ?? '',
        ...(given.blocks === undefined ? {} : { blocks: given.blocks }),
        via: 'response_url',
        at: new Date(),
      });
      return true;
    case RESPONSE_ACTIONS.delete:
      return store.delete(target.channel, target.messageTs);
  }
}

/** What Slack does with a message posted to a `response_url`. */
export function answerResponseUrl(
  body: JsonObject,
  target: ResponseTarget,
  store: MessageStore,
): ResponseAnswer {
  const action = actionOf(body);
  const given: ContentArgs | { refusal: string } =
    action === RESPONSE_ACTIONS.delete
      ? { text: undefined, blocks: undefined, metadata: undefined }
      : contentArgsFrom(body);
  if (isRefusal(given)) return { status: 400, action, error: given.refusal };
  const applied = apply({ action, target, given, threadTs: stringArg(body, 'thread_ts') }, store);
  return applied ? { status: 200, action } : { status: 404, action, error: 'message_not_found' };
}
