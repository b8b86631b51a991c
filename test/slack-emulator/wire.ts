import type { JsonObject } from './json.ts';
import type { MessageContent, MessageMetadata, PostedMessage, ThreadInfo } from './messages.ts';
import { IDENTITY, type Author } from './workspace.ts';

function botProfile(author: Author): JsonObject {
  return {
    id: author.botId ?? '',
    app_id: author.appId ?? '',
    name: author.name ?? '',
    team_id: IDENTITY.teamId,
    deleted: false,
  };
}

/** `user`, `bot_id`, `app_id` and `bot_profile` of a message, as Slack sends them for its author. */
export function authorFields(author: Author): JsonObject {
  if (author.botId === undefined) return { user: author.user };
  return {
    user: author.user,
    bot_id: author.botId,
    ...(author.appId === undefined ? {} : { app_id: author.appId }),
    bot_profile: botProfile(author),
  };
}

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
    return message.threadTs === undefined ? {} : { thread_ts: message.threadTs };
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
  return { edited: { user: message.author.user, ts: (last.at.getTime() / 1000).toFixed(6) } };
}

function reactionFields(message: PostedMessage): JsonObject {
  if (message.reactions.length === 0) return {};
  return {
    reactions: message.reactions.map((reaction) => ({
      name: reaction.name,
      users: [...reaction.users],
      count: reaction.users.length,
    })),
  };
}

/** A message as `conversations.history`, `conversations.replies` and `chat.postMessage` return it. */
export function wireMessage(
  message: PostedMessage,
  includeMetadata: boolean,
  thread?: ThreadInfo,
): JsonObject {
  return {
    type: 'message',
    ...authorFields(message.author),
    team: IDENTITY.teamId,
    ts: message.ts,
    ...contentFields(message, includeMetadata),
    ...threadFields(message, thread),
    ...editedFields(message),
    ...reactionFields(message),
  };
}
