/**
 * The controller's logger (winston): `--log-format json|text` (default json), `--log-level` (default
 * info). JSON lines carry `ts`, `level`, `msg` and the fields; text lines are for people at a
 * terminal. Every line goes through the redaction format first, so no secret is ever written.
 *
 * Lines about one request come from `logger.child({ controller, namespace, name })`, which adds those
 * fields to every line it writes.
 */
import { createLogger as createWinstonLogger, format, transports, type Logform, type Logger } from 'winston';
import { ConfigError } from '../errors.ts';
import { redact, redactField, redactText } from './redact.ts';

export type { Logger } from 'winston';

export const LogFormat = { Json: 'json', Text: 'text' } as const;
export type LogFormat = (typeof LogFormat)[keyof typeof LogFormat];

export const LogLevel = { Error: 'error', Warn: 'warn', Info: 'info', Debug: 'debug' } as const;
export type LogLevel = (typeof LogLevel)[keyof typeof LogLevel];

export const DEFAULT_LOG_FORMAT: LogFormat = LogFormat.Json;
export const DEFAULT_LOG_LEVEL: LogLevel = LogLevel.Info;

export interface LoggerOptions {
  readonly format: LogFormat;
  readonly level: LogLevel;
  /** Where lines go; standard error by default, so that standard output stays the command's own. */
  readonly stream?: NodeJS.WritableStream;
}

/** winston's `triple-beam` keys: the rendered line, and the level the transports filter on. */
const MESSAGE = Symbol.for('message');
const LEVEL = Symbol.for('level');

/** Fields every line has; a caller's field of the same name is left out. */
const RESERVED_FIELDS = new Set(['ts', 'level', 'msg', 'message']);

export function parseLogFormat(value: string): LogFormat {
  return parseChoice('--log-format', value, Object.values(LogFormat));
}

export function parseLogLevel(value: string): LogLevel {
  return parseChoice('--log-level', value, Object.values(LogLevel));
}

function parseChoice<T extends string>(flag: string, value: string, choices: readonly T[]): T {
  const choice = choices.find((candidate) => candidate === value);
  if (choice === undefined) {
    throw new ConfigError(`${flag} must be one of ${choices.join(', ')}, not ${JSON.stringify(value)}`);
  }
  return choice;
}

export function createLogger(options: LoggerOptions): Logger {
  return createWinstonLogger({
    level: options.level,
    format: format.combine(
      format.errors({ stack: true, cause: true }),
      redactSecrets(),
      options.format === LogFormat.Json ? jsonLines() : textLines(),
    ),
    transports: [new transports.Stream({ stream: options.stream ?? process.stderr })],
  });
}

/**
 * A winston format that replaces every string-keyed value of a log entry by its redacted copy (see
 * `redact.ts`). Of winston's symbol keys only the level is kept: the others hold the caller's raw
 * arguments (`splat`) or an unredacted rendering (`message`).
 */
export const redactSecrets = format((info) => {
  const fields = Object.entries(info)
    .filter(([key]) => key !== 'level' && key !== 'message')
    .map(([key, value]) => [key, redactField(key, value)] as const);
  const redacted: Logform.TransformableInfo = {
    ...Object.fromEntries(fields),
    level: info.level,
    message: redactMessage(info.message),
  };
  redacted[LEVEL] = info[LEVEL];
  return redacted;
});

function redactMessage(message: unknown): unknown {
  return typeof message === 'string' ? redactText(message) : redact(message);
}

/** One line of a log entry: its time, level, message and fields (already redacted). */
interface LogLine {
  readonly ts: string;
  readonly level: string;
  readonly msg: string;
  readonly fields: readonly (readonly [string, unknown])[];
}

function logLine(info: Logform.TransformableInfo): LogLine {
  const message = info.message;
  return {
    ts: new Date().toISOString(),
    level: info.level,
    msg: typeof message === 'string' ? message : (jsonText(message) ?? ''),
    fields: Object.entries(info).filter(([key, value]) => !RESERVED_FIELDS.has(key) && value !== undefined),
  };
}

const jsonLines = format((info) => {
  const { ts, level, msg, fields } = logLine(info);
  info[MESSAGE] = JSON.stringify({ ts, level, msg, ...Object.fromEntries(fields) });
  return info;
});

const textLines = format((info) => {
  const { ts, level, msg, fields } = logLine(info);
  const rendered = fields.map(textField);
  const pairs = rendered.map(({ pair }) => pair).join('');
  const stacks = rendered.map(({ stack }) => (stack === undefined ? '' : `\n${indent(stack)}`)).join('');
  info[MESSAGE] = `${ts} ${level.toUpperCase().padEnd(5)} ${msg}${pairs}${stacks}`;
  return info;
});

/** ` key=value` for the line, and a stack to show below it (an error's, or the entry's own). */
function textField([key, value]: readonly [string, unknown]): { pair: string; stack: string | undefined } {
  if (key === 'stack' && typeof value === 'string') return { pair: '', stack: value };
  const error = serializedError(value);
  if (error !== undefined) {
    const cause = error.cause === undefined ? '' : ` ${key}.cause=${textValue(error.cause)}`;
    return { pair: ` ${key}=${textValue(error.message)}${cause}`, stack: error.stack };
  }
  return { pair: ` ${key}=${textValue(value)}`, stack: undefined };
}

/** A string as is when it reads unambiguously in `key=value`, quoted otherwise; other values as JSON. */
export function textValue(value: unknown): string {
  if (typeof value !== 'string') return jsonText(value) ?? String(value);
  return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
}

interface SerializedError {
  readonly message: string;
  readonly stack: string;
  /** The cause's message, when there is one. */
  readonly cause: string | undefined;
}

/** An error as `redact` serializes it: `{ name, message, …, stack, cause }`. */
function serializedError(value: unknown): SerializedError | undefined {
  if (!isRecord(value)) return undefined;
  const { message, stack, cause } = value;
  if (typeof message !== 'string' || typeof stack !== 'string') return undefined;
  const causeMessage: unknown = isRecord(cause) ? cause['message'] : cause;
  return { message, stack, cause: typeof causeMessage === 'string' ? causeMessage : jsonText(causeMessage) };
}

/** `JSON.stringify`, honest about giving nothing for `undefined` and functions. */
function jsonText(value: unknown): string | undefined {
  const text: string | undefined = JSON.stringify(value);
  return text;
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}
