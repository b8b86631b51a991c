import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { GROUP } from '../src/api/v1alpha1/schema.ts';
import type { StatusWrite } from './invariants.ts';

/**
 * What the API server records for the invariant "no decision by a process that was not leader": every
 * write to an ApprovalRequest's status, with the object it left behind (its resourceVersion and
 * phase). Nothing else is logged.
 */
export const AUDIT_POLICY = JSON.stringify({
  apiVersion: 'audit.k8s.io/v1',
  kind: 'Policy',
  omitStages: ['RequestReceived'],
  omitManagedFields: true,
  rules: [
    {
      level: 'RequestResponse',
      verbs: ['update', 'patch'],
      resources: [{ group: GROUP, resources: ['approvalrequests/status'] }],
    },
    { level: 'None' },
  ],
});

/** The controller names its replica in its User-Agent: `greenlight-controller (<identity>)`. */
const CONTROLLER_AGENT = /^greenlight-controller \((?<identity>[^)]+)\)$/;

interface AuditEvent {
  readonly stage?: string;
  readonly stageTimestamp?: string;
  readonly userAgent?: string;
  readonly objectRef?: { readonly namespace?: string; readonly name?: string };
  readonly responseStatus?: { readonly code?: number };
  readonly responseObject?: {
    readonly metadata?: { readonly resourceVersion?: string };
    readonly status?: { readonly phase?: string };
  };
}

/** The status writes a controller made, as the API server's audit log records them. */
export function statusWriteOf(line: string): (StatusWrite & { readonly namespace: string }) | undefined {
  const event = JSON.parse(line) as AuditEvent;
  if (event.stage !== 'ResponseComplete') return undefined;
  const code = event.responseStatus?.code ?? 0;
  if (code < 200 || code >= 300) return undefined;
  const writer = CONTROLLER_AGENT.exec(event.userAgent ?? '')?.groups?.['identity'];
  const resourceVersion = Number(event.responseObject?.metadata?.resourceVersion);
  if (writer === undefined || !Number.isFinite(resourceVersion)) return undefined;
  return {
    namespace: event.objectRef?.namespace ?? '',
    name: event.objectRef?.name ?? '',
    writer,
    resourceVersion,
    phase: event.responseObject?.status?.phase ?? 'Pending',
    at: Date.parse(event.stageTimestamp ?? ''),
  };
}

/** Follows the audit log from where it last stopped, keeping one namespace's status writes. */
export class AuditFollower {
  readonly writes: StatusWrite[] = [];
  readonly #path: string;
  readonly #namespace: string;
  #offset = 0;
  #partial = '';
  // A character's bytes may straddle two reads.
  readonly #decoder = new StringDecoder('utf8');

  constructor(path: string, namespace: string) {
    this.#path = path;
    this.#namespace = namespace;
  }

  /** Reads what was appended since the last call; resolves with every write seen so far. */
  async read(): Promise<readonly StatusWrite[]> {
    const file = await open(this.#path, 'r');
    try {
      const chunk = Buffer.alloc(1 << 20);
      for (;;) {
        const { bytesRead } = await file.read(chunk, 0, chunk.length, this.#offset);
        if (bytesRead === 0) break;
        this.#offset += bytesRead;
        const lines = (this.#partial + this.#decoder.write(chunk.subarray(0, bytesRead))).split('\n');
        this.#partial = lines.pop() ?? '';
        this.#take(lines);
      }
    } finally {
      await file.close();
    }
    return this.writes;
  }

  #take(lines: readonly string[]): void {
    for (const line of lines) {
      // Cheap before JSON.parse: the log holds every namespace's writes, from the whole run.
      if (!line.includes(`"namespace":"${this.#namespace}"`)) continue;
      const write = statusWriteOf(line);
      if (write?.namespace === this.#namespace) this.writes.push(write);
    }
  }
}
