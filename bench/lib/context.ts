import { KubernetesEventRecorder } from '../../src/k8s/events.ts';
import { GreenlightApi } from '../../src/k8s/greenlight-api.ts';
import { cpuSeconds, type BenchCluster } from './cluster.ts';
import type { ControllerProcess } from './controller-process.ts';

/** What every measurement needs: the cluster, clients as the CI pipeline and as the admin, options. */
export interface BenchContext {
  readonly bench: BenchCluster;
  /** Creates requests (spec.requester is this identity; the admission policy insists). */
  readonly ciApi: GreenlightApi;
  /** Writes statuses for the ceiling and the store (the admin may `decide`, as the controller may). */
  readonly adminApi: GreenlightApi;
  /** The controller's own event recorder, as the admin: the ceiling records the same event per decision. */
  readonly events: KubernetesEventRecorder;
  readonly logDir: string;
  /** The controller's entry point: a build's main.js (as the container runs it) or src/cli/main.ts. */
  readonly controllerEntry: string;
  /** NODE_OPTIONS of every controller process: the container image's (the Dockerfile's ENV). */
  readonly controllerNodeOptions: string;
  /** The image's other ENV variables and its ENTRYPOINT's node flags (bench/lib/build.ts). */
  readonly controllerEnv: Readonly<Record<string, string>>;
  readonly controllerNodeFlags: readonly string[];
  /** The Go controller-runtime peer's binary (bench/peer, built by hack/build-tools.sh). */
  readonly peerBinary: string;
  readonly cpuProfileDir: string | undefined;
  /** Take a heap snapshot of each controller of the memory measurement, into this folder. */
  readonly heapSnapshotDir: string | undefined;
  readonly controllerConcurrency: number | undefined;
  readonly warmup: number;
  readonly progress: (line: string) => void;
}

export function benchContext(
  bench: BenchCluster,
  options: Omit<BenchContext, 'bench' | 'ciApi' | 'adminApi' | 'events'>,
): BenchContext {
  return {
    bench,
    ciApi: new GreenlightApi(bench.ci),
    adminApi: new GreenlightApi(bench.admin),
    events: new KubernetesEventRecorder(bench.admin, 'greenlight-bench-ceiling', (error: unknown) => {
      options.progress(`  (ceiling) could not record an event: ${String(error)}`);
    }),
    ...options,
  };
}

/** CPU seconds used so far by each process that takes part. */
export interface CpuSnapshot {
  readonly controller: number | undefined;
  readonly apiserver: number | undefined;
  readonly etcd: number | undefined;
  readonly bench: number;
}

export function cpuSnapshot(context: BenchContext, controller?: ControllerProcess): CpuSnapshot {
  const usage = process.cpuUsage();
  return {
    controller: controller?.cpuSeconds(),
    apiserver: cpuSeconds(context.bench.pids.apiserver),
    etcd: cpuSeconds(context.bench.pids.etcd),
    bench: (usage.user + usage.system) / 1e6,
  };
}

export type CpuUse = Readonly<Record<keyof CpuSnapshot, number | null>>;

export function cpuUsed(before: CpuSnapshot, after: CpuSnapshot): CpuUse {
  const spent = (key: keyof CpuSnapshot): number | null => {
    const [from, to] = [before[key], after[key]];
    return from === undefined || to === undefined ? null : Math.round((to - from) * 100) / 100;
  };
  return {
    controller: spent('controller'),
    apiserver: spent('apiserver'),
    etcd: spent('etcd'),
    bench: spent('bench'),
  };
}
