export {
  SlackEmulator,
  startSlackEmulator,
  type ApiCall,
  type BlockActionsOptions,
  type ClickOptions,
  type ClickResult,
  type HttpClickOptions,
  type HttpClickResult,
  type SendEventOptions,
  type SlackEmulatorOptions,
  type SocketClickOptions,
  type SocketClickResult,
  type UrlVerification,
} from './emulator.ts';
export {
  DEFAULT_EVENT_RETRY_DELAYS_MS,
  EVENT_DEADLINE_MS,
  eventCallback,
  messageEvent,
  signedEvent,
  type EventDelivery,
  type EventRequest,
  type EventResponse,
  type EventSubscription,
  type MetadataSubscriptions,
  type RetryReason,
} from './events.ts';
export { ANY_METHOD, type Failure } from './faults.ts';
export {
  blockActionsPayload,
  deliverInteraction,
  INTERACTION_DEADLINE_MS,
  interactionBody,
  signedInteraction,
  signedRequest,
  slackSignature,
  type BlockActionsInput,
  type InteractionRequest,
  type InteractionResponse,
  type SlackSignatureHeaders,
} from './interactions.ts';
export type { Json, JsonObject } from './json.ts';
export type {
  EphemeralMessage,
  MessageMetadata,
  MessageVersion,
  PostedMessage,
  Reaction,
} from './messages.ts';
export { DEFAULT_RATE_LIMIT, type RateLimit } from './rate-limit.ts';
export type { ResponseAction, ResponseTarget, ResponseUrlPost } from './response-url.ts';
export {
  ACK_DEADLINE_MS,
  ENVELOPE_TYPES,
  type Envelope,
  type EnvelopeType,
  type SocketAck,
  type SocketConnection,
} from './socket-mode.ts';
export { AUTH, METHODS, type Auth, type Caller } from './web-api.ts';
export {
  DEFAULT_BOTS,
  DEFAULT_CHANNELS,
  DEFAULT_CREDENTIALS,
  DEFAULT_USER_GROUPS,
  DEFAULT_USERS,
  GREENLIGHT_AUTHOR,
  IDENTITY,
  type Author,
  type SlackBot,
  type SlackChannel,
  type SlackUser,
  type SlackUserGroup,
  type Workspace,
} from './workspace.ts';
