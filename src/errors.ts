/**
 * Greenlight's error taxonomy: every error we raise carries a stable `code` and, where it wraps
 * another failure, the original as `cause` (the @slack/web-api `SlackError` shape).
 */
export const ErrorCode = {
  Config: 'greenlight_config_error',
  Usage: 'greenlight_usage_error',
  LocalCluster: 'greenlight_local_cluster_error',
  ToolBuild: 'greenlight_tool_build_error',
  Lookup: 'greenlight_lookup_error',
  Prometheus: 'greenlight_prometheus_error',
  WebhookRefused: 'greenlight_webhook_refused',
  WebhookAnswer: 'greenlight_webhook_answer',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export abstract class GreenlightError extends Error {
  abstract readonly code: ErrorCode;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The configuration (flags, environment) cannot be used; the process should not start. */
export class ConfigError extends GreenlightError {
  readonly code = ErrorCode.Config;
}

/** The command line is wrong; the message says what to type instead. */
export class UsageError extends GreenlightError {
  readonly code = ErrorCode.Usage;
}

/** The local control plane (etcd + kube-apiserver) could not be started or stopped. */
export class LocalClusterError extends GreenlightError {
  readonly code = ErrorCode.LocalCluster;
}

/** A control-plane binary could not be built from its Go module. */
export class ToolBuildError extends GreenlightError {
  readonly code = ErrorCode.ToolBuild;
}

/** What the command was asked to work on is not where it looked (the message says where it is). */
export class LookupError extends GreenlightError {
  readonly code = ErrorCode.Lookup;
}

/** A local Prometheus server could not be found, started or asked (the demo and the alert tests). */
export class PrometheusError extends GreenlightError {
  readonly code = ErrorCode.Prometheus;
}

/** A webhook's address is one Greenlight does not send to (link-local, cloud metadata). */
export class WebhookRefusedError extends GreenlightError {
  readonly code = ErrorCode.WebhookRefused;
}

/** A webhook receiver's answer could not be read as HTTP/1.1 (or the request could not be framed). */
export class WebhookAnswerError extends GreenlightError {
  readonly code = ErrorCode.WebhookAnswer;
}

/** The message of anything thrown, for logs and CLI output. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
