import { celEnv, celMap, isCelError, isCelMap, parse, plan, type CelValue } from '@bufbuild/cel';
import { messageOf } from '../../errors.ts';
import { celValueFromJson, type Conversion } from './json-value.ts';

/** What an expression is evaluated against. */
export interface Bindings {
  /** The ApprovalRequest as JSON: apiVersion, kind, metadata, spec, status. */
  readonly request: unknown;
  /** The evaluation time, bound to `now`. */
  readonly now: Date;
  /** The policy's context objects (JSON) by variable name; a missing one is bound as null. */
  readonly context: Readonly<Record<string, unknown>>;
}

/**
 * Bindings converted to CEL values on first use and kept, so that the expressions of one policy
 * evaluated against one request convert each object once. The objects must not change meanwhile.
 */
export class PreparedBindings {
  readonly #bindings: Partial<Bindings>;
  readonly #converted = new Map<string, Conversion>();

  constructor(bindings: Bindings) {
    this.#bindings = asBindings(bindings);
  }

  /** The value of a variable: `request`, `params`, `now`, or a context variable. */
  resolve(name: string): Conversion {
    let conversion = this.#converted.get(name);
    if (conversion === undefined) {
      conversion = guarded(() => this.#convert(name));
      this.#converted.set(name, conversion);
    }
    return conversion;
  }

  #convert(name: string): Conversion {
    switch (name) {
      case 'request':
        return celValueFromJson(this.#bindings.request, 'request');
      case 'params':
        return paramsOf(this.resolve('request'));
      case 'now':
        return timestampOf(this.#bindings.now);
      default:
        return celValueFromJson(contextObject(this.#bindings.context, name), `context '${name}'`);
    }
  }
}

export function prepareBindings(bindings: Bindings): PreparedBindings {
  return new PreparedBindings(bindings);
}

// Callers outside TypeScript's reach may pass anything; a non-object reads as no bindings at all.
function asBindings(value: unknown): Partial<Bindings> {
  return typeof value === 'object' && value !== null ? value : {};
}

function guarded(convert: () => Conversion): Conversion {
  try {
    return convert();
  } catch (error) {
    return { ok: false, message: `cannot read the bindings: ${messageOf(error)}` };
  }
}

function contextObject(context: unknown, name: string): unknown {
  return typeof context === 'object' && context !== null && Object.hasOwn(context, name)
    ? (context as Record<string, unknown>)[name]
    : null;
}

const EMPTY_PARAMS = celMap(new Map());

/** request.spec.parameters, or an empty map when the request has none. */
function paramsOf(request: Conversion): Conversion {
  if (!request.ok) return request;
  const spec = field(request.value, 'spec');
  const parameters = spec === undefined ? undefined : field(spec, 'parameters');
  return { ok: true, value: parameters ?? EMPTY_PARAMS };
}

function field(value: CelValue, name: string): CelValue | undefined {
  if (!isCelMap(value)) return undefined;
  const found = value.get(name);
  return found === null ? undefined : found;
}

// Parsing the RFC 3339 text is the public way to build a CEL timestamp (and checks its range).
const timestampFromText = plan(celEnv(), parse('timestamp(text)'));

function timestampOf(now: unknown): Conversion {
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) {
    return { ok: false, message: 'now must be a valid Date' };
  }
  const value = timestampFromText({ text: now.toISOString() });
  return isCelError(value)
    ? { ok: false, message: `now (${now.toISOString()}) is not a CEL timestamp: ${value.message}` }
    : { ok: true, value };
}
