import { randomBytes } from 'node:crypto';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';

export interface EventTarget {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name?: string;
    readonly namespace?: string;
    readonly uid?: string;
    readonly resourceVersion?: string;
  };
}

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  record(target: EventTarget, type: EventType, reason: string, message: string): Promise<void>;
}

const COMPONENT = 'greenlight-controller';
const MAX_MESSAGE = 1024;

/**
 * Writes core/v1 Events (what `kubectl describe` and `kubectl events` show). An event is a courtesy:
 * a failure to record one is reported to `onError` and never fails the reconcile.
 */
export class KubernetesEventRecorder implements EventRecorder {
  readonly #core: CoreV1Api;
  readonly #instance: string;
  readonly #onError: (error: unknown) => void;

  constructor(kubeConfig: KubeConfig, instance: string, onError: (error: unknown) => void) {
    this.#core = kubeConfig.makeApiClient(CoreV1Api);
    this.#instance = instance;
    this.#onError = onError;
  }

  async record(target: EventTarget, type: EventType, reason: string, message: string): Promise<void> {
    const { name = '', namespace = 'default', uid, resourceVersion } = target.metadata;
    const now = new Date();
    try {
      await this.#core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { name: `${name}.${randomBytes(8).toString('hex')}`, namespace },
          involvedObject: {
            apiVersion: target.apiVersion,
            kind: target.kind,
            name,
            namespace,
            ...(uid ? { uid } : {}),
            ...(resourceVersion ? { resourceVersion } : {}),
          },
          type,
          reason,
          message: message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 1)}…` : message,
          source: { component: COMPONENT },
          reportingComponent: COMPONENT,
          reportingInstance: this.#instance,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
    } catch (error) {
      this.#onError(error);
    }
  }
}
