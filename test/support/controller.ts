import { Writable } from 'node:stream';
import type { GreenlightApi } from '../../src/k8s/greenlight-api.ts';
import { ControllerManager, type ManagerOptions } from '../../src/controllers/manager.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { GreenlightMetrics } from '../../src/observability/metrics.ts';
import type { ApprovalRequest } from '../../src/api/v1alpha1/approval-request.ts';
import { kubeConfigAs } from './cluster.ts';
import { eventually } from './eventually.ts';

export interface RunningController {
  readonly manager: ControllerManager;
  readonly metrics: GreenlightMetrics;
  /** Every log line the controller wrote (JSON), for assertions about logs. */
  readonly logs: string[];
  stop(): Promise<void>;
}

/**
 * Starts Greenlight's controllers in this process, watching one test namespace only (other tests'
 * namespaces are none of its business), as the admin identity, and waits until they decide.
 */
export async function startController(
  namespace: string,
  options: {
    identity?: string;
    slack?: ManagerOptions['slack'];
    retention?: ManagerOptions['retention'];
    webhooks?: ManagerOptions['webhooks'];
  } = {},
): Promise<RunningController> {
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const metrics = new GreenlightMetrics({ processMetrics: false });
  const manager = await ControllerManager.create({
    kubeConfig: kubeConfigAs('admin'),
    namespace,
    identity: options.identity ?? `test-${namespace}`,
    slack: options.slack,
    retention: options.retention,
    ...(options.webhooks ? { webhooks: options.webhooks } : {}),
    logger: createLogger({ format: 'json', level: 'debug', stream }),
    metrics,
  });
  await manager.start();
  const running = manager.run();
  return {
    manager,
    metrics,
    logs,
    stop: async () => {
      await manager.stop();
      await running;
    },
  };
}

/** Waits until the request has a condition of that type and status, and returns the request. */
export function waitForCondition(
  api: GreenlightApi,
  namespace: string,
  name: string,
  type: string,
  status: 'True' | 'False' = 'True',
  timeoutMs = 20_000,
): Promise<ApprovalRequest> {
  return eventually(
    async () => {
      const request = await api.getRequest(namespace, name);
      const condition = request.status?.conditions?.find((c) => c.type === type);
      if (condition?.status !== status) {
        throw new Error(
          `${namespace}/${name}: ${type} is ${condition?.status ?? 'absent'}, phase ${request.status?.phase ?? '-'}`,
        );
      }
      return request;
    },
    { timeoutMs },
  );
}
