/**
 * The fixes proposed in docs/benchmarks.md (Findings), applied to an unchanged controller process as
 * a preload, so that the benchmark can measure what each would bring before anyone changes src/:
 *
 *   GREENLIGHT_BENCH_FIXES=F1,F2,F3 node --import ./bench/lib/preload-fixes.ts src/cli/main.ts controller …
 *
 * F1  reuse connections: one undici Agent per cluster and credentials instead of one per API call.
 * F2  record Events off the reconcile's critical path (as client-go's recorder does).
 * F3  trim the request cache: drop managedFields, and keep only a stub of requests that are final.
 * F4  a smaller young generation (node --max-semi-space-size=4, e.g. in the image's NODE_OPTIONS).
 * F5  watch only undecided requests: the CRD declares `.status.phase` a selectable field and the
 *     request informer lists and watches with a field selector that leaves final requests out (a final
 *     request then arrives as a deletion). The benchmark adds the selectable field to the installed CRD.
 */
import { pathToFileURL } from 'node:url';
import {
  ApiextensionsV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  Watch,
  type KubeConfig,
} from '@kubernetes/client-node';

export const FIXES = ['F1', 'F2', 'F3', 'F4', 'F5'] as const;
export type Fix = (typeof FIXES)[number];

export const FIX_TITLES: Readonly<Record<Fix, string>> = {
  F1: 'reuse API connections',
  F2: 'Events off the critical path',
  F3: 'trimmed request cache',
  F4: 'smaller young generation',
  F5: 'watch undecided requests only',
};

/** The field selector of fix F5. */
export const UNDECIDED_ONLY = 'status.phase!=Approved,status.phase!=Denied,status.phase!=Expired';

/** Node flags a fix needs (F4 is a flag, not a patch). */
export function nodeFlagsFor(fixes: readonly Fix[]): string[] {
  return fixes.includes('F4') ? ['--max-semi-space-size=4'] : [];
}

/** Whether the fixes need the preload (F4 alone does not). */
export const needsPreload = (fixes: readonly Fix[]): boolean => fixes.some((fix) => fix !== 'F4');

/** F5's cluster side: `.status.phase` becomes a selectable field of ApprovalRequests. */
export async function makePhaseSelectable(admin: KubeConfig): Promise<void> {
  const crds = admin.makeApiClient(ApiextensionsV1Api);
  const name = 'approvalrequests.greenlight.dev';
  const crd = await crds.readCustomResourceDefinition({ name });
  const index = crd.spec.versions.findIndex((version) => version.name === 'v1alpha1');
  await crds.patchCustomResourceDefinition(
    {
      name,
      body: [
        {
          op: 'add',
          path: `/spec/versions/${index}/selectableFields`,
          value: [{ jsonPath: '.status.phase' }],
        },
      ],
    },
    setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
  );
  const objects = admin.makeApiClient(CustomObjectsApi);
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await objects.listClusterCustomObject({
        group: 'greenlight.dev',
        version: 'v1alpha1',
        plural: 'approvalrequests',
        fieldSelector: UNDECIDED_ONLY,
        limit: 1,
      });
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

export function parseFixes(value: string | undefined): Fix[] {
  if (!value) return [];
  return value.split(',').map((fix) => {
    if (!(FIXES as readonly string[]).includes(fix))
      throw new Error(`unknown fix ${fix} (known: ${FIXES.join(', ')})`);
    return fix as Fix;
  });
}

// ---- F2 ----

interface Recorder {
  record(...args: unknown[]): Promise<void>;
}

/**
 * Patches the controller's own KubernetesEventRecorder (from the tree the controller runs: src/*.ts or
 * a build's *.js, found next to its entry point) so that `record` returns at once.
 */
async function recordEventsInBackground(): Promise<void> {
  const entry = process.argv[1] ?? '';
  const extension = entry.endsWith('.ts') ? '.ts' : '.js';
  const events = (await import(new URL(`../k8s/events${extension}`, pathToFileURL(entry)).href)) as {
    KubernetesEventRecorder: { prototype: Recorder };
  };
  const prototype = events.KubernetesEventRecorder.prototype;
  const record = Object.getOwnPropertyDescriptor(prototype, 'record')?.value as Recorder['record'];
  Object.defineProperty(prototype, 'record', {
    configurable: true,
    writable: true,
    value: function recordLater(this: Recorder, ...args: unknown[]): Promise<void> {
      // The recorder never rejects (failures go to its onError).
      void record.apply(this, args);
      return Promise.resolve();
    },
  });
}

// ---- F5 ----

type ListCall = (...args: unknown[]) => Promise<{ kind?: string; items?: RawRequest[] }>;

const isRequestList = (param: unknown): param is Record<string, unknown> =>
  typeof param === 'object' &&
  param !== null &&
  (param as { plural?: unknown }).plural === 'approvalrequests';

function watchUndecidedOnly(): void {
  const api = CustomObjectsApi.prototype as unknown as Record<string, ListCall>;
  for (const method of ['listNamespacedCustomObject', 'listClusterCustomObject']) {
    const list = api[method];
    if (!list) continue;
    api[method] = function listUndecided(this: unknown, ...[param, ...rest]: unknown[]) {
      const filtered = isRequestList(param) ? { ...param, fieldSelector: UNDECIDED_ONLY } : param;
      return list.call(this, filtered, ...rest);
    };
  }
  const watch = Object.getOwnPropertyDescriptor(Watch.prototype, 'watch')?.value as Watch['watch'];
  Object.defineProperty(Watch.prototype, 'watch', {
    configurable: true,
    writable: true,
    value: function watchUndecided(
      this: Watch,
      ...[path, query, callback, done]: Parameters<Watch['watch']>
    ) {
      const filtered = path.endsWith('/approvalrequests')
        ? { ...query, fieldSelector: UNDECIDED_ONLY }
        : query;
      return watch.call(this, path, filtered, callback, done);
    },
  });
}

// ---- F3 ----

interface RawRequest {
  apiVersion?: string;
  kind?: string;
  metadata?: Record<string, unknown> & { managedFields?: unknown };
  spec?: Record<string, unknown>;
  status?: { phase?: string | undefined; decision?: unknown };
}

const FINAL = new Set(['Approved', 'Denied', 'Expired']);
const KEPT_METADATA = ['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp'];

/** What the controller needs of a cached request: all of an undecided one, a stub of a final one. */
function trim(object: RawRequest): RawRequest {
  if (object.kind !== undefined && object.kind !== 'ApprovalRequest') return object;
  const metadata = object.metadata ?? {};
  if (!FINAL.has(object.status?.phase ?? '')) {
    delete metadata.managedFields;
    return object;
  }
  return {
    apiVersion: object.apiVersion ?? 'greenlight.dev/v1alpha1',
    kind: 'ApprovalRequest',
    metadata: Object.fromEntries(
      KEPT_METADATA.filter((key) => key in metadata).map((key) => [key, metadata[key]]),
    ),
    spec: { action: object.spec?.['action'], requester: object.spec?.['requester'] },
    status: { phase: object.status?.phase, decision: object.status?.decision },
  };
}

function trimRequestCache(): void {
  const api = CustomObjectsApi.prototype as unknown as Record<string, ListCall>;
  for (const method of ['listNamespacedCustomObject', 'listClusterCustomObject']) {
    const list = api[method];
    if (!list) continue;
    api[method] = async function listTrimmed(this: unknown, ...args: unknown[]) {
      const page = await list.apply(this, args);
      if (page.kind === 'ApprovalRequestList' && page.items) page.items = page.items.map(trim);
      return page;
    };
  }
  const watch = Object.getOwnPropertyDescriptor(Watch.prototype, 'watch')?.value as Watch['watch'];
  Object.defineProperty(Watch.prototype, 'watch', {
    configurable: true,
    writable: true,
    value: function watchTrimmed(this: Watch, ...[path, query, callback, done]: Parameters<Watch['watch']>) {
      const trimmed: typeof callback = (phase, object: RawRequest, event) => {
        callback(phase, path.includes('/approvalrequests') ? trim(object) : object, event);
      };
      return watch.call(this, path, query, trimmed, done);
    },
  });
}

export async function applyFixes(fixes: readonly Fix[]): Promise<void> {
  // F1 is in the controller itself now (src/k8s/pooled-kubeconfig.ts): nothing to apply.
  if (fixes.includes('F2')) await recordEventsInBackground();
  if (fixes.includes('F3')) trimRequestCache();
  if (fixes.includes('F5')) watchUndecidedOnly();
}
