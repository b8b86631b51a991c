import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';

export interface ProbeResult {
  readonly status: number;
  readonly body: string;
}

/** GETs a URL (HTTPS verified against `ca`) and resolves with the status and body; for readiness probes. */
export function probe(url: string, options: { ca?: string; token?: string } = {}): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const headers = options.token ? { authorization: `Bearer ${options.token}` } : {};
    const onResponse = (response: IncomingMessage): void => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        resolve({ status: response.statusCode ?? 0, body });
      });
    };
    const request = url.startsWith('https:')
      ? httpsGet(url, { headers, ...(options.ca === undefined ? {} : { ca: options.ca }) }, onResponse)
      : httpGet(url, { headers }, onResponse);
    request.setTimeout(2_000, () => request.destroy(new Error(`no answer from ${url} within 2s`)));
    request.on('error', reject);
  });
}
