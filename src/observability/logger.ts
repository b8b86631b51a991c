/**
 * The controller's logger: `--log-format json|text` (default json), `--log-level` (default info).
 * JSON lines carry `ts`, `level`, `msg` and the fields; text lines are for people at a terminal.
 * Every message and field is redacted first (see `redact.ts`), so no secret is ever written.
 *
 * Lines about one request come from `logger.child({ controller, namespace, name })`, which adds those
 * fields to every line it writes. A child redacts and merges its fields once, when it is made.
 *
 * This is not winston, which it replaced with the same lines: winston sends every entry through a
 * chain of object-mode streams (logger, formats, transport), and in a CPU profile of a burst of
 * decisions that pipeline, for one `info` line per decision, took 6–7 % of the controller's CPU
 * (docs/benchmarks.md). Here a line is built by plain functions and written with one
 * `stream.write`; a level that is off costs a comparison.
 */
import { ConfigError } from '../errors.ts';
import { redact, redactField, redactText } from './redact.ts';

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

export type LogFields = Readonly<Record<string, unknown>>;

/**
 * Writes one line: a message and its fields, or an error (its message, own fields, stack and cause).
 * As with winston, the fields' `message` is added to the line's (`logger.error('Slack failed', error)`
 * reads `Slack failed <error's message>`), and their `stack` and `cause` are fields even when, as on
 * an error, they are not enumerable.
 */
export interface LogMethod {
  (message: string, fields?: LogFields | Error): void;
  (error: Error): void;
}

export interface Logger {
  readonly error: LogMethod;
  readonly warn: LogMethod;
  readonly info: LogMethod;
  readonly debug: LogMethod;
  /** A logger that adds `fields` to each of its lines (a line's own field of the same name wins). */
  child(fields: LogFields): Logger;
  /** For lines whose fields cost something to gather: is `debug` written at all? */
  isDebugEnabled(): boolean;
}

const SEVERITY: Readonly<Record<LogLevel, number>> = { error: 0, warn: 1, info: 2, debug: 3 };

/** Fields every line has; a caller's field of the same name is left out. */
const RESERVED_FIELDS = new Set(['ts', 'level', 'msg', 'message']);

/** What a text line shows before its fields. */
const LINE_HEAD = new Set(['ts', 'level', 'msg']);

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
  const render = options.format === LogFormat.Json ? jsonLine : textLine;
  return new LineLogger(
    { stream: options.stream ?? process.stderr, severity: SEVERITY[options.level], render },
    [],
  );
}

/** Fields already redacted, in the order they are written. */
type Fields = readonly (readonly [string, unknown])[];

/** A line's content: its time, level and message, then the fields (all redacted), in that order. */
type Line = { readonly ts: string; readonly level: LogLevel; readonly msg: string } & Readonly<
  Record<string, unknown>
>;

interface Sink {
  readonly stream: NodeJS.WritableStream;
  /** The most verbose level written. */
  readonly severity: number;
  readonly render: (line: Line) => string;
}

class LineLogger implements Logger {
  readonly #sink: Sink;
  readonly #context: Fields;

  constructor(sink: Sink, context: Fields) {
    this.#sink = sink;
    this.#context = context;
  }

  error(message: string | Error, fields?: LogFields | Error): void {
    if (this.#sink.severity >= SEVERITY.error) this.#write('error', message, fields);
  }

  warn(message: string | Error, fields?: LogFields | Error): void {
    if (this.#sink.severity >= SEVERITY.warn) this.#write('warn', message, fields);
  }

  info(message: string | Error, fields?: LogFields | Error): void {
    if (this.#sink.severity >= SEVERITY.info) this.#write('info', message, fields);
  }

  debug(message: string | Error, fields?: LogFields | Error): void {
    if (this.#sink.severity >= SEVERITY.debug) this.#write('debug', message, fields);
  }

  child(fields: LogFields): Logger {
    return new LineLogger(this.#sink, mergedFields(this.#context, redactedFields(Object.entries(fields))));
  }

  isDebugEnabled(): boolean {
    return this.#sink.severity >= SEVERITY.debug;
  }

  #write(level: LogLevel, message: string | Error, fields: LogFields | Error | undefined): void {
    const entry =
      message instanceof Error ? errorEntry(level, message) : messageEntry(level, message, fields);
    this.#sink.stream.write(`${this.#sink.render(lineOf(entry, this.#context))}\n`);
  }
}

/** What a line says of itself, before its logger's fields. */
interface OwnEntry {
  readonly level: LogLevel;
  readonly msg: unknown;
  readonly fields: Fields;
}

/** `logger.error(error)`: the error's message, its own fields, stack and cause. */
function errorEntry(level: LogLevel, error: Error): OwnEntry {
  const fields: [string, unknown][] = [
    ...Object.entries(error),
    ['stack', error.stack],
    ['cause', error.cause],
  ];
  return { level, msg: error.message, fields: redactedFields(fields) };
}

/** `logger.info(message, fields)`: see `LogMethod` for the fields' `message`, `stack` and `cause`. */
function messageEntry(level: LogLevel, message: string, fields: LogFields | Error | undefined): OwnEntry {
  if (fields === undefined) return { level, msg: message, fields: [] };
  const { message: appended, stack, cause }: { message?: unknown; stack?: unknown; cause?: unknown } = fields;
  const entries: [string, unknown][] = Object.entries(fields);
  if (stack) entries.push(['stack', stack]);
  if (cause) entries.push(['cause', cause]);
  const msg = appended
    ? `${message} ${typeof appended === 'string' ? appended : (jsonText(appended) ?? '')}`
    : message;
  return { level, msg, fields: redactedFields(entries) };
}

function redactedFields(fields: Fields): Fields {
  return fields
    .filter(([key]) => !RESERVED_FIELDS.has(key))
    .map(([key, value]) => [key, redactField(key, value)] as const);
}

/** `base` then `added`; a field in both keeps its place in `base` and takes its value from `added`. */
function mergedFields(base: Fields, added: Fields): Fields {
  if (base.length === 0) return added;
  if (added.length === 0) return base;
  const merged = new Map(base);
  for (const [key, value] of added) merged.set(key, value);
  return [...merged];
}

function lineOf(entry: OwnEntry, context: Fields): Line {
  const line: Line = { ts: new Date().toISOString(), level: entry.level, msg: messageText(entry.msg) };
  assignFields(line, context);
  assignFields(line, entry.fields);
  return line;
}

/** Like `Object.assign`, but a field named `__proto__` is a field. */
function assignFields(line: Record<string, unknown>, fields: Fields): void {
  for (const [key, value] of fields) {
    if (key === '__proto__') Object.defineProperty(line, key, { value, enumerable: true, writable: true });
    else line[key] = value;
  }
}

function messageText(message: unknown): string {
  if (typeof message === 'string') return redactText(message);
  return jsonText(redact(message)) ?? '';
}

function jsonLine(line: Line): string {
  return JSON.stringify(line);
}

function textLine(line: Line): string {
  const { ts, level, msg } = line;
  const rendered = Object.entries(line)
    .filter(([key, value]) => !LINE_HEAD.has(key) && value !== undefined)
    .map(textField);
  const pairs = rendered.map(({ pair }) => pair).join('');
  const stacks = rendered.map(({ stack }) => (stack === undefined ? '' : `\n${indent(stack)}`)).join('');
  return `${ts} ${level.toUpperCase().padEnd(5)} ${msg}${pairs}${stacks}`;
}

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
