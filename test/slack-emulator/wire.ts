import type { JsonObject } from './json.ts';
import type { MessageContent, MessageMetadata, PostedMessage, ThreadInfo } from './messages.ts';
import { IDENTITY } from './workspace.ts';

const BOT_PROFILE: JsonObject = {
  id: IDENTITY.botId,
  app_id: IDENTITY.appId,
  name: IDENTITY.botName,
  team_id: IDENTITY.teamId,
  deleted: false,
};

function metadataObject(metadata: MessageMetadata): JsonObject {
  return { event_type: metadata.event_type, event_payload: metadata.event_payload };
}

function contentFields(content: MessageContent, includeMetadata: boolean): JsonObject {
  return {
    text: content.text,
    ...(content.blocks === undefined ? {} : { blocks: content.blocks }),
    ...(includeMetadata && content.metadata !== undefined
      ? { metadata: metadataObject(content.metadata) }
      : {}),
  };
}

function threadFields(message: PostedMessage, thread: ThreadInfo | undefined): JsonObject {
  if (thread === undefined || thread.replyCount === 0) {
    return message.threadTs === undefined
      ? {}
      : { thread_ts: message.threadTs, parent_user_id: IDENTITY.botUserId };
  }
  return {
    thread_ts: message.ts,
    reply_count: thread.replyCount,
    reply_users_count: thread.replyUsers.length,
    reply_users: [...thread.replyUsers],
    ...(thread.latestReply === undefined ? {} : { latest_reply: thread.latestReply }),
  };
}

function editedFields(message: PostedMessage): JsonObject {
  const last = message.history.at(-1);
  if (message.history.length < 2 || last === undefined) return {};
  return { edited: { user: IDENTITY.botUserId, ts: (last.at.getTime() / 1000).toFixed(6) } };
}

/** A bot message as `conversations.history`, `conversations.replies` and `chat.postMessage` return it. */
export function wireMessage(
  message: PostedMessage,
  includeMetadata: boolean,
  thread?: ThreadInfo,
): JsonObject {
  return {
    type: 'message',
    user: IDENTITY.botUserId,
    bot_id: IDENTITY.botId,
    app_id: IDENTITY.appId,
    team: IDENTITY.teamId,
    ts: message.ts,
    ...contentFields(message, includeMetadata),
    ...threadFields(message, thread),
    ...editedFields(message),
    bot_profile: BOT_PROFILE,
  };
}
