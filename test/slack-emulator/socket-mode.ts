import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { isJsonObject, parseJson, type JsonObject } from './json.ts';

/** Slack's deadline for acknowledging an envelope. */
export const ACK_DEADLINE_MS = 3000;

export const ENVELOPE_TYPES = {
  interactive: 'interactive',
  eventsApi: 'events_api',
  slashCommands: 'slash_commands',
} as const;
export type EnvelopeType = (typeof ENVELOPE_TYPES)[keyof typeof ENVELOPE_TYPES];

export interface Envelope {
  readonly type: EnvelopeType;
  readonly payload: JsonObject;
  readonly acceptsResponsePayload?: boolean;
  /** events_api: how many times this event was sent before, and why it is sent again. */
  readonly retryAttempt?: number;
  readonly retryReason?: string;
}

/** What a client sent back for an envelope: `{ envelope_id, payload? }`. */
export interface SocketAck {
  readonly envelope_id: string;
  readonly payload?: JsonObject;
}

export interface SocketConnection {
  readonly id: number;
  readonly openedAt: Date;
  readonly closedAt?: Date;
}

export interface SocketModeServerOptions {
  readonly appId: string;
  /** How often the server pings each client (as Slack does); 0 turns pings off. */
  readonly pingIntervalMs: number;
  readonly onChange: () => void;
}

interface Connection {
  readonly id: number;
  readonly socket: WebSocket;
  readonly openedAt: Date;
  closedAt?: Date;
  pinger?: NodeJS.Timeout;
}

interface PendingAck {
  readonly resolve: (ack: SocketAck) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString();
  return Buffer.isBuffer(data) ? data.toString() : Buffer.from(data).toString();
}

function ackFrom(data: RawData): SocketAck | undefined {
  const message = parseJson(rawText(data));
  if (!isJsonObject(message) || typeof message['envelope_id'] !== 'string') return undefined;
  const payload = message['payload'];
  return { envelope_id: message['envelope_id'], ...(isJsonObject(payload) ? { payload } : {}) };
}

function refuseUpgrade(socket: Duplex): void {
  socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
}

/** The Socket Mode side of the emulator: `/link/?ticket=…` WebSockets, envelopes and their acks. */
export class SocketModeServer {
  readonly #server = new WebSocketServer({ noServer: true });
  readonly #options: SocketModeServerOptions;
  readonly #tickets = new Set<string>();
  readonly #connections: Connection[] = [];
  readonly #pending = new Map<string, PendingAck>();
  readonly #acks: SocketAck[] = [];
  #nextId = 1;

  constructor(options: SocketModeServerOptions) {
    this.#options = options;
  }

  /** A single-use ticket for `apps.connections.open`'s URL. */
  issueTicket(): string {
    const ticket = randomUUID();
    this.#tickets.add(ticket);
    return ticket;
  }

  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const ticket = new URL(request.url ?? '/', 'http://emulator').searchParams.get('ticket');
    if (ticket === null || !this.#tickets.delete(ticket)) {
      refuseUpgrade(socket);
      return;
    }
    this.#server.handleUpgrade(request, socket, head, (webSocket) => {
      this.#accept(webSocket);
    });
  }

  /** Sends an envelope to the newest connected client; resolves with its ack, rejects after the deadline. */
  send(envelope: Envelope, timeoutMs = ACK_DEADLINE_MS): Promise<SocketAck> {
    const connection = this.#open().at(-1);
    if (connection === undefined) return Promise.reject(new Error('no Socket Mode client is connected'));
    const envelopeId = randomUUID();
    const acked = new Promise<SocketAck>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(envelopeId);
        reject(new Error(`no ack for ${envelope.type} envelope ${envelopeId} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(envelopeId, { resolve, reject, timer });
    });
    connection.socket.send(
      JSON.stringify({
        envelope_id: envelopeId,
        type: envelope.type,
        payload: envelope.payload,
        accepts_response_payload: envelope.acceptsResponsePayload ?? false,
        ...(envelope.type === ENVELOPE_TYPES.eventsApi
          ? { retry_attempt: envelope.retryAttempt ?? 0, retry_reason: envelope.retryReason ?? '' }
          : {}),
      }),
    );
    return acked;
  }

  /** Asks every client to reconnect, as Slack does before recycling a server. */
  requestRefresh(): void {
    this.#broadcast({
      type: 'disconnect',
      reason: 'refresh_requested',
      debug_info: { host: 'slack-emulator' },
    });
  }

  /** Cuts every connection without a goodbye, as a network failure would. */
  dropConnections(): void {
    for (const connection of this.#open()) connection.socket.terminate();
  }

  connectedClients(): number {
    return this.#open().length;
  }

  connections(): readonly SocketConnection[] {
    return this.#connections.map((connection) => ({
      id: connection.id,
      openedAt: connection.openedAt,
      ...(connection.closedAt === undefined ? {} : { closedAt: connection.closedAt }),
    }));
  }

  acks(): readonly SocketAck[] {
    return structuredClone(this.#acks);
  }

  close(): void {
    for (const [envelopeId, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(new Error(`emulator closed before envelope ${envelopeId} was acked`));
    }
    this.#pending.clear();
    for (const connection of this.#connections) this.#stopPinging(connection);
    for (const client of this.#server.clients) client.terminate();
    this.#server.close();
  }

  #accept(socket: WebSocket): void {
    const connection: Connection = { id: this.#nextId++, socket, openedAt: new Date() };
    this.#connections.push(connection);
    socket.on('message', (data) => {
      this.#receive(data);
    });
    socket.on('close', () => {
      connection.closedAt = new Date();
      this.#stopPinging(connection);
      this.#options.onChange();
    });
    this.#startPinging(connection);
    socket.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.#open().length,
        debug_info: { host: 'slack-emulator', build_number: 1, approximate_connection_time: 3600 },
        connection_info: { app_id: this.#options.appId },
      }),
    );
    this.#options.onChange();
  }

  #receive(data: RawData): void {
    const ack = ackFrom(data);
    if (ack === undefined) return;
    this.#acks.push(ack);
    const pending = this.#pending.get(ack.envelope_id);
    if (pending !== undefined) {
      clearTimeout(pending.timer);
      this.#pending.delete(ack.envelope_id);
      pending.resolve(ack);
    }
    this.#options.onChange();
  }

  #startPinging(connection: Connection): void {
    if (this.#options.pingIntervalMs <= 0) return;
    connection.pinger = setInterval(() => {
      connection.socket.ping();
    }, this.#options.pingIntervalMs);
    connection.pinger.unref();
  }

  #stopPinging(connection: Connection): void {
    clearInterval(connection.pinger);
  }

  #open(): Connection[] {
    return this.#connections.filter((connection) => connection.closedAt === undefined);
  }

  #broadcast(message: JsonObject): void {
    const text = JSON.stringify(message);
    for (const connection of this.#open()) connection.socket.send(text);
  }
}
