import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import {
  createLogger,
  parseLogFormat,
  parseLogLevel,
  textValue,
  type LogFormat,
  type LogLevel,
  type Logger,
} from './logger.ts';

/**
 * A logger whose entries (one per write: a JSON line, or a text line with its stack) are collected,
 * without their newline; `writes` has each write as it came.
 */
function capturingLogger(
  format: LogFormat,
  level: LogLevel = 'info',
): { logger: Logger; entries: string[]; writes: string[] } {
  const writes: string[] = [];
  const entries: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done): void {
      writes.push(chunk.toString('utf8'));
      entries.push(chunk.toString('utf8').replace(/\n$/, ''));
      done();
    },
  });
  return { logger: createLogger({ format, level, stream }), entries, writes };
}

/** Lets the logger's streams deliver what was written. */
function delivered(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function parseJsonLine(line: string | undefined): Record<string, unknown> {
  const parsed: unknown = JSON.parse(line ?? '');
  if (typeof parsed !== 'object' || parsed === null) throw new Error(`not a JSON object: ${String(line)}`);
  return parsed as Record<string, unknown>;
}

function withoutTs(line: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(line).filter(([key]) => key !== 'ts'));
}

describe('JSON logs', () => {
  it('writes one JSON line with ts, level, msg and the fields', async () => {
    const { logger, entries } = capturingLogger('json');
    logger.info('request decided', { outcome: 'Approved', approvals: 2 });
    await delivered();
    expect(entries).toHaveLength(1);
    const line = parseJsonLine(entries[0]);
    expect(Object.keys(line).slice(0, 3)).toEqual(['ts', 'level', 'msg']);
    expect(line).toMatchObject({ level: 'info', msg: 'request decided', outcome: 'Approved', approvals: 2 });
    expect(new Date(String(line['ts'])).toISOString()).toBe(line['ts']);
  });

  it('puts controller, namespace and name on every line of a request’s child logger', async () => {
    const { logger, entries } = capturingLogger('json');
    const requestLog = logger.child({
      controller: 'approvalrequest',
      namespace: 'team-a',
      name: 'deploy-web',
    });
    requestLog.info('escalated');
    requestLog.warn('slack unavailable', { retryIn: '30s' });
    await delivered();
    for (const entry of entries) {
      expect(parseJsonLine(entry)).toMatchObject({
        controller: 'approvalrequest',
        namespace: 'team-a',
        name: 'deploy-web',
      });
    }
    expect(entries).toHaveLength(2);
  });

  it('logs below the level are dropped', async () => {
    const { logger, entries } = capturingLogger('json', 'warn');
    logger.info('routine');
    logger.debug('detail');
    logger.error('broken');
    await delivered();
    expect(entries.map((entry) => parseJsonLine(entry)['msg'])).toEqual(['broken']);
  });

  it('logs an error with its message, stack and cause', async () => {
    const { logger, entries } = capturingLogger('json');
    logger.error(new Error('watch failed', { cause: new Error('connection reset') }));
    logger.error('reconcile failed', { err: new TypeError('x is undefined') });
    await delivered();
    const [direct, field] = entries.map(parseJsonLine);
    expect(direct).toMatchObject({ level: 'error', msg: 'watch failed' });
    expect(direct?.['stack']).toMatch(/^Error: watch failed\n\s+at /);
    expect(direct?.['cause']).toMatchObject({ name: 'Error', message: 'connection reset' });
    expect(field?.['err']).toMatchObject({ name: 'TypeError', message: 'x is undefined' });
  });
  it('writes each line with one write, ending in a newline', async () => {
    const { logger, writes } = capturingLogger('json');
    logger.info('one', { a: 1 });
    logger.error(new Error('two'));
    await delivered();
    expect(writes).toHaveLength(2);
    for (const write of writes) expect(write).toMatch(/^\{[^\n]*\}\n$/);
  });

  it('writes ts, level, msg, then the logger’s fields, then the line’s, in that order', async () => {
    const { logger, entries } = capturingLogger('json');
    logger
      .child({ controller: 'approvalrequest' })
      .child({ namespace: 'team-a', name: 'deploy-web' })
      .info('Decided ApprovalRequest', { outcome: 'Approved', name: 'deploy-web-2', policy: undefined });
    await delivered();
    const line = parseJsonLine(entries[0]);
    expect(Object.keys(line)).toEqual(['ts', 'level', 'msg', 'controller', 'namespace', 'name', 'outcome']);
    expect(line).toEqual({
      ts: line['ts'],
      level: 'info',
      msg: 'Decided ApprovalRequest',
      controller: 'approvalrequest',
      namespace: 'team-a',
      name: 'deploy-web-2',
      outcome: 'Approved',
    });
  });

  it('leaves a child’s parent as it was', async () => {
    const { logger, entries } = capturingLogger('json');
    const parent = logger.child({ component: 'slack' });
    parent.child({ slackChannel: 'C1' }).info('child');
    parent.info('parent');
    await delivered();
    expect(entries.map(parseJsonLine).map(withoutTs)).toEqual([
      { level: 'info', msg: 'child', component: 'slack', slackChannel: 'C1' },
      { level: 'info', msg: 'parent', component: 'slack' },
    ]);
  });

  it('keeps ts, level and msg its own, and adds a message field to msg', async () => {
    const { logger, entries } = capturingLogger('json');
    logger.warn('A decision webhook was not delivered', {
      ts: 'then',
      level: 'none',
      msg: 'other',
      message: 'HTTP 503',
      attempts: 3,
    });
    await delivered();
    const line = parseJsonLine(entries[0]);
    expect(line['ts']).not.toBe('then');
    expect(withoutTs(line)).toEqual({
      level: 'warn',
      msg: 'A decision webhook was not delivered HTTP 503',
      attempts: 3,
    });
  });

  it('writes nothing below the level, and does not even look at the fields', async () => {
    const { logger, writes } = capturingLogger('json', 'info');
    const costly = {
      get detail(): string {
        throw new Error('read a field of a line that is not written');
      },
    };
    logger.debug('detail', costly);
    logger.child({ namespace: 'team-a' }).debug('detail', costly);
    await delivered();
    expect(writes).toEqual([]);
    expect(logger.isDebugEnabled()).toBe(false);
    expect(capturingLogger('json', 'debug').logger.isDebugEnabled()).toBe(true);
  });

  it('gives an error passed as the fields its message, stack and cause', async () => {
    const { logger, entries } = capturingLogger('json');
    logger.error('Slack failed', new Error('not_authed', { cause: new Error('HTTP 401') }));
    await delivered();
    const line = parseJsonLine(entries[0]);
    expect(line).toMatchObject({ level: 'error', msg: 'Slack failed not_authed' });
    expect(line['stack']).toMatch(/^Error: not_authed\n\s+at /);
    expect(line['cause']).toMatchObject({ name: 'Error', message: 'HTTP 401' });
  });

  it('logs an error’s own fields, redacted, and its cause’s stack', async () => {
    const error = Object.assign(new Error('request failed', { cause: new Error('socket hang up') }), {
      code: 'ECONNRESET',
      headers: { authorization: 'Bearer abc.def' },
    });
    const { logger, entries } = capturingLogger('json');
    logger.child({ component: 'webhooks' }).error(error);
    await delivered();
    const line = parseJsonLine(entries[0]);
    expect(Object.keys(line)).toEqual([
      'ts',
      'level',
      'msg',
      'component',
      'code',
      'headers',
      'stack',
      'cause',
    ]);
    expect(line).toMatchObject({
      msg: 'request failed',
      code: 'ECONNRESET',
      headers: { authorization: '[REDACTED]' },
      cause: { name: 'Error', message: 'socket hang up' },
    });
    expect((line['cause'] as Record<string, unknown>)['stack']).toMatch(/^Error: socket hang up\n\s+at /);
  });
});

describe('text logs', () => {
  it('writes time, level, message and key=value fields for people', async () => {
    const { logger, entries } = capturingLogger('text');
    logger
      .child({ controller: 'approvalrequest', namespace: 'team-a', name: 'deploy-web' })
      .info('request decided', { outcome: 'Approved', reason: 'green in staging', policies: ['deploys'] });
    await delivered();
    expect(entries[0]).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO {2}request decided controller=approvalrequest namespace=team-a name=deploy-web outcome=Approved reason="green in staging" policies=\["deploys"\]$/,
    );
  });

  it('shows an error’s cause on its line and its stack below', async () => {
    const { logger, entries } = capturingLogger('text');
    logger.error('reconcile failed', { err: new Error('conflict', { cause: 'stale resourceVersion' }) });
    await delivered();
    const [line, ...stack] = (entries[0] ?? '').split('\n');
    expect(line).toMatch(/ERROR reconcile failed err=conflict err.cause="stale resourceVersion"$/);
    expect(stack[0]).toBe('    Error: conflict');
    expect(stack[1]).toMatch(/^ {8}at /);
  });

  it('shows a direct error’s message and cause on its line and its stack below', async () => {
    const { logger, entries } = capturingLogger('text');
    logger.child({ component: 'informer' }).error(new Error('watch failed', { cause: new Error('reset') }));
    await delivered();
    const [line, ...stack] = (entries[0] ?? '').split('\n');
    expect(line).toMatch(/^\S+ ERROR watch failed component=informer cause=reset$/);
    expect(stack[0]).toBe('    Error: watch failed');
  });

  it('writes nothing below the level', async () => {
    const { logger, writes } = capturingLogger('text', 'error');
    logger.warn('warned');
    logger.info('routine');
    logger.debug('detail');
    await delivered();
    expect(writes).toEqual([]);
  });

  it.each([
    ['plain', 'plain'],
    ['two words', '"two words"'],
    ['', '""'],
    ['a=b', '"a=b"'],
    [3, '3'],
    [{ a: 1 }, '{"a":1}'],
  ])('renders %j as %s', (value, text) => {
    expect(textValue(value)).toBe(text);
  });
});

describe.each(['json', 'text'] as const)('secrets in %s logs', (format) => {
  const secrets = [
    'xoxb-123-abc',
    'xapp-1-A1-abc',
    'xoxp-9-zz',
    'hunter2',
    's3cr3t-signing',
    'eyJhbGciOi.eyJzdWIi.c2ln',
  ];

  async function output(log: (logger: Logger) => void): Promise<string> {
    const { logger, entries } = capturingLogger(format);
    log(logger);
    await delivered();
    expect(entries.length).toBeGreaterThan(0);
    return entries.join('\n');
  }

  function expectNoSecret(text: string): void {
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).toContain('[REDACTED]');
  }

  it('hides a field that names a secret', async () => {
    expectNoSecret(
      await output((logger) => {
        logger.info('slack configured', { token: 'xoxb-123-abc' });
      }),
    );
  });

  it('hides secrets in the message', async () => {
    expectNoSecret(
      await output((logger) => {
        logger.warn('socket mode failed for xapp-1-A1-abc');
      }),
    );
  });

  it('hides nested secret fields, whatever their case', async () => {
    const config = {
      slack: { BotToken: 'xoxb-123-abc', signingSecret: 's3cr3t-signing' },
      env: { SLACK_APP_TOKEN: 'xapp-1-A1-abc' },
      headers: { authorization: 'Bearer eyJhbGciOi.eyJzdWIi.c2ln' },
      login: { password: 'hunter2' },
    };
    expectNoSecret(
      await output((logger) => {
        logger.info('starting', { config });
      }),
    );
    expect(config.slack.BotToken).toBe('xoxb-123-abc');
  });

  it('hides secrets in error messages and stacks, direct or as a field', async () => {
    const error = new Error('auth.test failed with token xoxp-9-zz', {
      cause: new Error('Authorization: Bearer eyJhbGciOi.eyJzdWIi.c2ln'),
    });
    expectNoSecret(
      await output((logger) => {
        logger.error(error);
      }),
    );
    expectNoSecret(
      await output((logger) => {
        logger.error('slack failed', error);
      }),
    );
    expectNoSecret(
      await output((logger) => {
        logger.error('slack failed', { err: error });
      }),
    );
  });

  it('hides secrets in child logger fields', async () => {
    expectNoSecret(
      await output((logger) => {
        logger.child({ botToken: 'xoxb-123-abc' }).info('ready');
      }),
    );
  });
});

describe('flags', () => {
  it('accepts the documented formats and levels', () => {
    expect(parseLogFormat('json')).toBe('json');
    expect(parseLogFormat('text')).toBe('text');
    expect(['error', 'warn', 'info', 'debug'].map(parseLogLevel)).toEqual(['error', 'warn', 'info', 'debug']);
  });

  it('refuses anything else, saying what is allowed', () => {
    expect(() => parseLogFormat('yaml')).toThrow(ConfigError);
    expect(() => parseLogFormat('yaml')).toThrow('--log-format must be one of json, text, not "yaml"');
    expect(() => parseLogLevel('trace')).toThrow('--log-level must be one of error, warn, info, debug');
  });
});
