import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { GROUP } from '../src/api/v1alpha1/schema.ts';
import type { LeaseVersion, StatusWrite } from './invariants.ts';

/**
 * What the API server records for the invariant "no decision by a process that was not leader": every
 * write to an ApprovalRequest's status and every write to a Lease, each with the object it left
 * behind (its resourceVersion, and the phase or the holder). Nothing else is logged. The lease's
 * holders come from here rather than from a watch: a watch resumed after etcd restarts may be refused
 * (410 Gone) and list again, and the list shows only the latest holder, not the ones in between.
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
    {
      level: 'RequestResponse',
      verbs: ['create', 'update', 'patch'],
      resources: [{ group: 'coordination.k8s.io', resources: ['leases'] }],
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
  readonly objectRef?: {
    readonly resource?: string;
    readonly subresource?: string;
    readonly namespace?: string;
    readonly name?: string;
  };
  readonly responseStatus?: { readonly code?: number };
  readonly responseObject?: {
    readonly metadata?: { readonly resourceVersion?: string };
    readonly status?: { readonly phase?: string };
    readonly spec?: { readonly holderIdentity?: string };
  };
}

/** A completed, successful write's event, and the resourceVersion it left; undefined otherwise. */
function completedWrite(line: string): { event: AuditEvent; resourceVersion: number } | undefined {
  const event = JSON.parse(line) as AuditEvent;
  if (event.stage !== 'ResponseComplete') return undefined;
  const code = event.responseStatus?.code ?? 0;
  if (code < 200 || code >= 300) return undefined;
  const resourceVersion = Number(event.responseObject?.metadata?.resourceVersion);
  return Number.isFinite(resourceVersion) ? { event, resourceVersion } : undefined;
}

/** The status writes a controller made, as the API server's audit log records them. */
export function statusWriteOf(line: string): (StatusWrite & { readonly namespace: string }) | undefined {
  const write = completedWrite(line);
  if (write?.event.objectRef?.subresource !== 'status') return undefined;
  const { event, resourceVersion } = write;
  const writer = CONTROLLER_AGENT.exec(event.userAgent ?? '')?.groups?.['identity'];
  if (writer === undefined) return undefined;
  return {
    namespace: event.objectRef?.namespace ?? '',
    name: event.objectRef?.name ?? '',
    writer,
    resourceVersion,
    phase: event.responseObject?.status?.phase ?? 'Pending',
    at: Date.parse(event.stageTimestamp ?? ''),
  };
}

/** A write to a Lease, as the audit log records it: the version it left and who holds it then. */
export function leaseWriteOf(
  line: string,
): (LeaseVersion & { readonly namespace: string; readonly name: string }) | undefined {
  const write = completedWrite(line);
  if (write?.event.objectRef?.resource !== 'leases') return undefined;
  return {
    namespace: write.event.objectRef.namespace ?? '',
    name: write.event.objectRef.name ?? '',
    resourceVersion: write.resourceVersion,
    holder: write.event.responseObject?.spec?.holderIdentity ?? '',
  };
}

/** Follows the audit log from where it last stopped, keeping one namespace's status and lease writes. */
export class AuditFollower {
  readonly writes: StatusWrite[] = [];
  /** The versions of the lease named `lease`. */
  readonly leases: LeaseVersion[] = [];
  readonly #path: string;
  readonly #namespace: string;
  readonly #lease: string;
  #offset = 0;
  #partial = '';
  // A character's bytes may straddle two reads.
  readonly #decoder = new StringDecoder('utf8');

  constructor(path: string, namespace: string, lease: string) {
    this.#path = path;
    this.#namespace = namespace;
    this.#lease = lease;
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
      const lease = write === undefined ? leaseWriteOf(line) : undefined;
      if (lease?.namespace === this.#namespace && lease.name === this.#lease)
        this.leases.push({ resourceVersion: lease.resourceVersion, holder: lease.holder });
    }
  }
}
