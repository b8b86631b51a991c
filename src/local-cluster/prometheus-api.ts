import { PrometheusError } from '../errors.ts';

/**
 * The parts of Prometheus's HTTP API (`/api/v1/…`) the demo and the alert tests read: instant and
 * range queries, active alerts, rule health and scrape targets. Answers are checked for the shape the
 * API documents, and `status: "error"` answers become a PrometheusError carrying Prometheus's message.
 */

export type Labels = Readonly<Record<string, string>>;

/** One series of an instant vector: its labels and its value at the query's time. */
export interface Sample {
  readonly metric: Labels;
  readonly value: number;
}

/** One series of a range query: its labels and its (time in seconds, value) points. */
export interface Series {
  readonly metric: Labels;
  readonly values: readonly (readonly [number, number])[];
}

export type AlertState = 'pending' | 'firing';

export interface ActiveAlert {
  readonly name: string;
  readonly labels: Labels;
  readonly state: AlertState;
  readonly activeAt: string;
}

export interface RuleHealth {
  readonly group: string;
  readonly name: string;
  readonly type: 'alerting' | 'recording';
  readonly health: string;
  readonly lastError?: string;
  /** When the rule was last evaluated (RFC 3339); empty before the first evaluation. */
  readonly lastEvaluation: string;
}

export interface TargetHealth {
  readonly job: string;
  readonly scrapeUrl: string;
  readonly health: string;
  readonly lastError: string;
  /** When the last scrape started (RFC 3339). */
  readonly lastScrape: string;
}

type Json = unknown;

const isObject = (value: Json): value is Readonly<Record<string, Json>> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const asList = (value: Json): readonly Json[] => (Array.isArray(value) ? (value as Json[]) : []);
const asString = (value: Json): string => (typeof value === 'string' ? value : '');

function labels(value: Json): Labels {
  if (!isObject(value)) return {};
  return Object.fromEntries(Object.entries(value).map(([key, label]) => [key, asString(label)]));
}

/** A `[seconds, "value"]` pair; Prometheus sends values as strings ("NaN", "+Inf" included). */
function point(value: Json): readonly [number, number] {
  const [time, text] = asList(value);
  return [typeof time === 'number' ? time : Number.NaN, Number(asString(text))];
}

export class PrometheusApi {
  readonly #baseUrl: string;

  /** `baseUrl`: the server's root, e.g. `http://127.0.0.1:9090/`. */
  constructor(baseUrl: string) {
    this.#baseUrl = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  }

  /** An instant query; a scalar answer comes back as one series without labels. */
  async query(expression: string, at?: Date): Promise<Sample[]> {
    const data = await this.#get('api/v1/query', {
      query: expression,
      ...(at ? { time: String(at.getTime() / 1000) } : {}),
    });
    const result = isObject(data) ? data['result'] : undefined;
    if (isObject(data) && data['resultType'] === 'scalar') return [{ metric: {}, value: point(result)[1] }];
    return asList(result).map((series) => {
      const entry = isObject(series) ? series : {};
      return { metric: labels(entry['metric']), value: point(entry['value'])[1] };
    });
  }

  /** A range query from `start` to `end`, one point every `stepSeconds`. */
  async queryRange(expression: string, start: Date, end: Date, stepSeconds: number): Promise<Series[]> {
    const data = await this.#get('api/v1/query_range', {
      query: expression,
      start: String(start.getTime() / 1000),
      end: String(end.getTime() / 1000),
      step: String(stepSeconds),
    });
    return asList(isObject(data) ? data['result'] : undefined).map((series) => {
      const entry = isObject(series) ? series : {};
      return { metric: labels(entry['metric']), values: asList(entry['values']).map(point) };
    });
  }

  /** Alerts that are pending or firing now. */
  async alerts(): Promise<ActiveAlert[]> {
    const data = await this.#get('api/v1/alerts', {});
    return asList(isObject(data) ? data['alerts'] : undefined).flatMap((alert) => {
      if (!isObject(alert)) return [];
      const alertLabels = labels(alert['labels']);
      const state = alert['state'];
      if (state !== 'pending' && state !== 'firing') return [];
      return [
        {
          name: alertLabels['alertname'] ?? '',
          labels: alertLabels,
          state,
          activeAt: asString(alert['activeAt']),
        },
      ];
    });
  }

  /** Every loaded rule with its health after its last evaluation. */
  async rules(): Promise<RuleHealth[]> {
    const data = await this.#get('api/v1/rules', {});
    return asList(isObject(data) ? data['groups'] : undefined).flatMap((group) => {
      if (!isObject(group)) return [];
      return asList(group['rules']).flatMap((rule): RuleHealth[] => {
        if (!isObject(rule)) return [];
        const lastError = asString(rule['lastError']);
        return [
          {
            group: asString(group['name']),
            name: asString(rule['name']),
            type: rule['type'] === 'recording' ? 'recording' : 'alerting',
            health: asString(rule['health']),
            ...(lastError ? { lastError } : {}),
            lastEvaluation: asString(rule['lastEvaluation']),
          },
        ];
      });
    });
  }

  async targets(): Promise<TargetHealth[]> {
    const data = await this.#get('api/v1/targets', { state: 'active' });
    return asList(isObject(data) ? data['activeTargets'] : undefined).flatMap((target) => {
      if (!isObject(target)) return [];
      return [
        {
          job: labels(target['labels'])['job'] ?? '',
          scrapeUrl: asString(target['scrapeUrl']),
          health: asString(target['health']),
          lastError: asString(target['lastError']),
          lastScrape: asString(target['lastScrape']),
        },
      ];
    });
  }

  async #get(path: string, parameters: Readonly<Record<string, string>>): Promise<Json> {
    const url = new URL(path, this.#baseUrl);
    for (const [name, value] of Object.entries(parameters)) url.searchParams.set(name, value);
    let body: Json;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      body = await response.json();
    } catch (error) {
      throw new PrometheusError(`Prometheus did not answer GET ${url.pathname}`, { cause: error });
    }
    if (!isObject(body) || body['status'] !== 'success') {
      const reason = isObject(body) ? asString(body['error']) : 'not JSON';
      throw new PrometheusError(`Prometheus refused GET ${url.pathname}${url.search}: ${reason}`);
    }
    return body['data'];
  }
}
